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


def exit_reporting(main, program: str):
    """Run a script's main and exit with its status; a DistillError (a bad Recipe, a missing file)
    is one line on stderr and status 2, as in the distill command."""
    import sys
    from pathlib import Path

    try:
        status = main()
    except DistillError as err:
        print(f"{Path(program).name}: error: {err}", file=sys.stderr)
        sys.exit(2)
    sys.exit(status or 0)
