"""Errors a user can act on. Every message names the thing that is wrong and how to fix it."""


class LearnscopeError(Exception):
    """Base class: the CLI prints these as one clear line (no traceback) and exits with status 2."""


class ConfigError(LearnscopeError):
    """params.yaml (or an override file) does not match the schema, or a run spec is inconsistent."""


class DatasetError(LearnscopeError):
    """A dataset is missing or malformed on disk."""


class RecordError(LearnscopeError):
    """A run record (HDF5) is missing, truncated, of another format, or not what was asked for."""


class DamagedRecordError(RecordError):
    """A run record fails its content digest, its structural checks or its header checks; ``what`` says which."""

    def __init__(self, message: str, what: str):
        super().__init__(message)
        self.what = what


class StorageError(LearnscopeError):
    """A file could not be written: the disk is full or a file-size limit was reached."""


class CacheError(LearnscopeError):
    """An entry of the between-workflow output cache does not match its content digest."""
