"""The errors a converter can raise: the base of every one-line user error, a bad model file, and a tool
that failed or crashed. edge_kit.errors re-exports them (and adds its own), so `except EdgekitError`
anywhere catches what a converter or its child process raised."""


class EdgekitError(Exception):
    """Base class: anything the user can act on. The CLI prints the message without a traceback."""

    exit_code = 2


class ModelFileError(EdgekitError):
    """A missing, unreadable or corrupt model file."""


class ConversionError(EdgekitError):
    """A converter failed or crashed; the message names model, stage and tool."""

    def __init__(self, model: str, stage: str, tool: str, detail: str):
        self.model, self.stage, self.tool, self.detail = model, stage, tool, detail
        super().__init__(f"{model}: {stage} failed in {tool}: {detail}")
