import os


def command_env():
    env = {"PATH": os.environ["PATH"], "APP_MODE": "test"}
    for name, value in os.environ.items():
        if name.startswith("COV") and name not in env:
            env[name] = value
    return env
