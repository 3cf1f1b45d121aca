"""User-facing errors: one line, no traceback."""


class DistillError(Exception):
    """An error the user can fix; its message is the whole story, printed on one line."""

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))


class RecipeError(DistillError):
    """A Recipe that cannot be loaded: names the file, line and field path."""

    def __init__(self, path, line, field, problem):
        where = f"{path}:{line}" if line else str(path)
        field_part = f" {field}:" if field else ""
        super().__init__(f"{where}{field_part} {problem}")
        self.path, self.line, self.field, self.problem = path, line, field, problem
