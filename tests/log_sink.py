"""A logger-like sink for tests that check progress and log lines."""


class Lines:
    """A ``logging.Logger``-like sink that keeps the messages."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def info(self, msg: str, *args, **kwargs) -> None:
        self.messages.append(msg)
