"""One exception hierarchy; callers catch by class, never by message text."""

from __future__ import annotations


class DriftwardenError(Exception):
    """Base of every error driftwarden raises on purpose."""

    exit_code = 2


class ConfigError(DriftwardenError):
    """The config file or an override is invalid; names the file, the key and what is allowed."""

    exit_code = 2


class UsageError(DriftwardenError):
    """The command line asked for something that cannot be done as given."""

    exit_code = 2


class InputFileError(DriftwardenError):
    """A data file is unreadable or does not match what is expected; such a file goes to quarantine.

    ``path`` names the file and ``field`` the column or part that was wrong, when known.
    """

    exit_code = 2

    def __init__(self, path: object, reason: str, field: str | None = None) -> None:
        self.path = str(path)
        self.reason = reason
        self.field = field
        from driftwarden.data.quoting import quote_name  # here: errors is imported by data

        # A column name comes from the file (or a reference that may be anything): bounded.
        where = f"{self.path}" + (f": column {quote_name(field)}" if field else "")
        super().__init__(f"{where}: {reason}")


class Finding(DriftwardenError):
    """A result the caller asked to fail on (drift, validation below minimum, nothing qualifies)."""

    exit_code = 1


class RecoverableError(DriftwardenError):
    """A failure that may go away by itself; the daemon retries instead of giving up."""

    exit_code = 3


class MlflowUnavailable(RecoverableError):
    """The MLflow tracking server could not be reached after retries."""

    exit_code = 3


class StateUnavailable(RecoverableError):
    """The daemon's state cannot be written or reached now: a full disk, an I/O error, a file
    system gone read-only, or the shared PostgreSQL database unreachable. The daemon then takes
    no file until the state answers again, and nothing is lost meanwhile."""

    exit_code = 3


class LeaseLost(DriftwardenError):
    """This instance no longer owns the model it was about to record something for.

    Raised inside the transaction that would have recorded it (nothing is written): another
    instance took the model's lease over and redoes the work.
    """

    def __init__(self, model: str, reason: str) -> None:
        self.model = model
        self.reason = reason
        super().__init__(f"model {model!r}: {reason}")


class OptionalDependencyMissing(DriftwardenError):
    """An optional extra (e.g. torch for MMD) is needed but not installed."""

    exit_code = 2

    def __init__(self, extra: str, feature: str) -> None:
        self.extra = extra
        super().__init__(
            f"{feature} needs the optional '{extra}' extra: pip install 'driftwarden[{extra}]'"
        )
