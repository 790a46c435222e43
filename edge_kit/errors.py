"""Errors edgekit reports to users as one clear line (the CLI prints str(err) and exits non-zero)."""


class EdgekitError(Exception):
    """Base class: anything the user can act on. The CLI prints the message without a traceback."""

    exit_code = 2


class UnknownModelError(EdgekitError):
    pass


class ModelFileError(EdgekitError):
    """A missing, unreadable or corrupt model file."""


class UnsupportedOpError(EdgekitError):
    pass


class ConversionError(EdgekitError):
    """A converter failed or crashed; the message names model, stage and tool."""

    def __init__(self, model: str, stage: str, tool: str, detail: str):
        self.model, self.stage, self.tool, self.detail = model, stage, tool, detail
        super().__init__(f"{model}: {stage} failed in {tool}: {detail}")


class ParityError(EdgekitError):
    """An artifact was produced but computes different numbers than the Paddle reference."""

    exit_code = 3


class OutputDirError(EdgekitError):
    """The output directory cannot be written (permissions, full disk)."""
