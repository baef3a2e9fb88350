def test_server(server):
    assert server.poll() is None
