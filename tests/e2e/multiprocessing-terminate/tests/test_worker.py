import multiprocessing

from worker import serve


def test_worker():
    ready = multiprocessing.Event()
    process = multiprocessing.Process(target=serve, args=(ready,))
    process.start()
    assert ready.wait(10)
    process.terminate()
    process.join()
