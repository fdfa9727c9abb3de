"""Type stubs of the native module ``pseudolink._native`` (checked by ``mypy.stubtest``)."""

import os
from collections.abc import Sequence
from typing import Any, NoReturn, final

__all__ = [
    "RANDOM_SAMPLE",
    "CancelledError",
    "EncodedExtract",
    "FileError",
    "Index",
    "InputError",
    "InternalError",
    "InvalidArgumentError",
    "Links",
    "MismatchError",
    "Model",
    "ModelError",
    "PairSampler",
    "PairScorer",
    "PseudolinkError",
    "Schema",
    "SchemaError",
    "Secret",
    "SecretError",
    "SecretPermissionWarning",
    "UnverifiedExtractWarning",
    "__version__",
    "_panic_for_tests",
    "blocking_columns",
    "competes",
    "competition_model",
    "competition_standings",
    "dedupe",
    "encode_arrow",
    "encode_csv",
    "encode_file",
    "encode_python",
    "encode_table_file",
    "evaluate",
    "link",
    "links_lone_pair",
    "pair_stats_of_parts",
    "read_encoded",
    "resolve_component",
    "sample_cut",
    "train_model",
]

__version__: str

class PseudolinkError(Exception):
    """Base class of every error pseudolink raises."""

class SchemaError(PseudolinkError):
    """The schema is invalid; ``path`` is the JSON path of the problem."""

    path: str | None

class InputError(PseudolinkError):
    """An input is malformed; ``file``, ``line`` and ``field`` say where (``file`` is None for
    in-memory tables, whose first row is line 2)."""

    file: str | None
    line: int | None
    field: str | None

class SecretError(PseudolinkError):
    """A secret could not be loaded or generated."""

class MismatchError(PseudolinkError):
    """Extracts or files that must agree (schema, secret, manifest) do not."""

class ModelError(PseudolinkError):
    """A linkage model is invalid or does not fit the schema."""

class FileError(PseudolinkError):
    """A file could not be read or written; the OSError is the ``__cause__``."""

    path: str | None
    action: str | None

class InvalidArgumentError(PseudolinkError):
    """An argument that makes no sense."""

class CancelledError(PseudolinkError):
    """The operation was cancelled."""

class InternalError(PseudolinkError):
    """A bug in pseudolink (a Rust panic caught at the boundary)."""

class SecretPermissionWarning(UserWarning):
    """A secret file can be read by users other than its owner (``Secret.from_file``)."""

class UnverifiedExtractWarning(UserWarning):
    """An extract read with ``allow_unverified=True`` could not be checked against its manifest."""

@final
class Schema:
    """A validated linkage schema (holds no secret)."""

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Schema: ...
    @classmethod
    def from_json(cls, json: str) -> Schema: ...
    @classmethod
    def example(cls) -> Schema: ...
    def to_json(self) -> str: ...
    @property
    def fingerprint(self) -> str: ...
    @property
    def record_id(self) -> str: ...
    @property
    def input_columns(self) -> list[str]: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class Secret:
    """The shared 256-bit secret. Never shown, never pickled."""

    @classmethod
    def generate(cls) -> Secret: ...
    @classmethod
    def from_file(cls, path: str | os.PathLike[str], *, strict: bool = False) -> Secret: ...
    @classmethod
    def from_bytes(cls, data: bytes) -> Secret: ...
    @property
    def check_value(self) -> str: ...
    def __reduce__(self) -> NoReturn: ...
    def __getstate__(self) -> NoReturn: ...
    def __copy__(self) -> NoReturn: ...
    def __deepcopy__(self, memo: Any, /) -> NoReturn: ...

@final
class EncodedExtract:
    """An encoded extract in memory."""

    def __len__(self) -> int: ...
    @property
    def manifest(self) -> dict[str, Any]: ...
    @property
    def schema(self) -> Schema: ...
    @property
    def rejected(self) -> list[dict[str, Any]]: ...
    @property
    def columns(self) -> list[str]: ...
    @property
    def verified(self) -> bool: ...
    def write_csv(
        self,
        path: str | os.PathLike[str],
        *,
        rejects: str | os.PathLike[str] | None = None,
        progress: bool = False,
    ) -> None: ...
    def to_arrow(self) -> Any: ...
    def to_pandas(self) -> Any: ...
    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object: ...

def encode_csv(
    path: str | os.PathLike[str],
    schema: Schema,
    secret: Secret,
    *,
    keep_rejected: bool = True,
    progress: bool = False,
    agreement: str | None = None,
    purpose: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
    columns: dict[str, str] | None = None,
    source: str | None = None,
) -> EncodedExtract: ...
def encode_file(
    input: str | os.PathLike[str],
    output: str | os.PathLike[str],
    schema: Schema,
    secret: Secret,
    *,
    rejects: str | os.PathLike[str] | None = None,
    progress: bool = False,
    agreement: str | None = None,
    purpose: str | None = None,
    id_memory: int | None = None,
    temp_dir: str | os.PathLike[str] | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
    columns: dict[str, str] | None = None,
    source: str | None = None,
) -> str: ...
def encode_table_file(
    data: object,
    output: str | os.PathLike[str],
    schema: Schema,
    secret: Secret,
    *,
    arrow: bool,
    input_name: str,
    rejects: str | os.PathLike[str] | None = None,
    progress: bool = False,
    agreement: str | None = None,
    purpose: str | None = None,
    id_memory: int | None = None,
    temp_dir: str | os.PathLike[str] | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
    columns: dict[str, str] | None = None,
    source: str | None = None,
) -> str: ...
def encode_arrow(
    data: object,
    schema: Schema,
    secret: Secret,
    *,
    input_name: str,
    keep_rejected: bool = True,
    progress: bool = False,
    agreement: str | None = None,
    purpose: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
    columns: dict[str, str] | None = None,
    source: str | None = None,
    keep_sample: bool = False,
) -> EncodedExtract: ...
def encode_python(
    data: list[Any] | dict[str, Any],
    schema: Schema,
    secret: Secret,
    *,
    input_name: str,
    keep_rejected: bool = True,
    progress: bool = False,
    agreement: str | None = None,
    purpose: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
    columns: dict[str, str] | None = None,
    source: str | None = None,
) -> EncodedExtract: ...
def read_encoded(
    path: str | os.PathLike[str],
    schema: Schema | None = None,
    *,
    allow_unverified: bool = False,
) -> EncodedExtract: ...

@final
class Model:
    """A trained Fellegi-Sunter model."""

    @classmethod
    def from_json(cls, json: str) -> Model: ...
    def to_json(self) -> str: ...
    @property
    def lambda_(self) -> float: ...

@final
class Index:
    """A person index with stable person ids (docs/index.md)."""

    def __new__(cls, path: str | os.PathLike[str]) -> Index: ...
    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str],
        schema: Schema,
        inputs: Sequence[str | os.PathLike[str]],
        sources: Sequence[str] | None = None,
        model: Model | None = None,
        threshold: float = 0.9,
        review_threshold: float = 0.5,
        cluster_support: float = 0.5,
    ) -> Index: ...
    def add(
        self,
        path: str | os.PathLike[str],
        source: str | None = None,
        output: str | os.PathLike[str] | None = None,
        rejects: str | os.PathLike[str] | None = None,
    ) -> list[dict[str, Any]]: ...
    def match_row(self, source: str, row: str) -> dict[str, Any]: ...
    def export(self) -> list[dict[str, str]]: ...
    def write_export(self, path: str | os.PathLike[str]) -> int: ...
    def remove(self, source: str, record_ids: Sequence[str]) -> dict[str, Any]: ...
    def compact(self) -> dict[str, int]: ...
    def merges(self) -> list[dict[str, Any]]: ...
    def splits(self) -> list[dict[str, Any]]: ...
    @property
    def sources(self) -> list[str]: ...
    def __len__(self) -> int: ...
    def close(self) -> None: ...
    def __enter__(self) -> Index: ...
    def __exit__(self, *args: object) -> bool: ...

@final
class Links:
    """Scored, banded, clustered pairs: the result of link() or dedupe()."""

    def __len__(self) -> int: ...
    @property
    def model(self) -> Model: ...
    @property
    def summary(self) -> dict[str, Any]: ...
    def explain(self, left_id: str, right_id: str) -> dict[str, Any]: ...
    def write_csv(self, path: str | os.PathLike[str]) -> None: ...
    def to_arrow(self) -> Any: ...
    def to_pandas(self) -> Any: ...
    def report(
        self,
        path: str | os.PathLike[str],
        *,
        truth: list[tuple[str, str]] | str | os.PathLike[str] | None = None,
        explain: list[tuple[str, str]] | None = None,
    ) -> None: ...
    def _repr_html_(self) -> str: ...
    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object: ...

def link(
    left: EncodedExtract | str | os.PathLike[str],
    right: EncodedExtract | str | os.PathLike[str],
    schema: Schema,
    *,
    threshold: float = 0.9,
    review_threshold: float = 0.5,
    model: Model | None = None,
    clear: bool = False,
    one_to_one: bool = False,
    allow_unverified: bool = False,
    progress: bool = False,
    agreement: str | None = None,
    purpose: str | None = None,
) -> Links: ...
def dedupe(
    data: EncodedExtract | str | os.PathLike[str],
    schema: Schema,
    *,
    threshold: float = 0.9,
    review_threshold: float = 0.5,
    model: Model | None = None,
    clear: bool = False,
    allow_unverified: bool = False,
    progress: bool = False,
    agreement: str | None = None,
    purpose: str | None = None,
) -> Links: ...
def evaluate(
    links: Links | str | os.PathLike[str], truth: list[tuple[str, str]] | str | os.PathLike[str]
) -> dict[str, Any]: ...
def _panic_for_tests(detached: bool) -> None: ...

# pseudolink.spark's parts (python/src/spark.rs).
@final
class PairScorer:
    """Compares (and with a model scores) batches of candidate pairs as `pseudolink link` does."""

    def __new__(cls, schema: Schema, model_json: str | None = None) -> PairScorer: ...
    @property
    def comparisons(self) -> list[str]: ...
    @property
    def columns(self) -> list[str]: ...
    def score(self, pairs: object, left_prefix: str, right_prefix: str) -> Any: ...
    def patterns(self, pairs: object, left_prefix: str, right_prefix: str) -> Any: ...
    def pattern_weights(self, patterns: list[bytes]) -> list[tuple[float, float]]: ...
    def compete(self, weights: list[float], standings: list[int]) -> list[tuple[float, float]]: ...

def blocking_columns(schema: Schema) -> list[tuple[str, str, bool, str | None]]: ...
def train_model(
    schema: Schema,
    patterns: list[tuple[bytes, int]],
    manifests: list[str],
    source_sizes: list[int],
    candidate_pairs: int,
) -> str: ...
def competes(schema: Schema, model_json: str | None, n_sources: int) -> bool: ...
def competition_standings(
    weights: list[float],
    left_best: list[float],
    left_pairs: list[int],
    right_best: list[float],
    right_pairs: list[int],
) -> list[int]: ...
def competition_model(
    model_json: str, m_sums: list[float], u_sums: list[float], pairs: int
) -> str: ...
def links_lone_pair(cluster_support: float, one_to_one: bool = False) -> bool: ...
def resolve_component(
    records: list[tuple[int, int, str]],
    pairs: list[tuple[int, int, float]],
    n_sources: int,
    threshold: float,
    review_threshold: float,
    cluster_support: float,
    one_to_one: bool = False,
) -> list[int | None]: ...

# Pair statistics of an extract encoded in parts (python/src/sample.rs).
RANDOM_SAMPLE: int

@final
class PairSampler:
    """The pair statistics' sample of one part of an extract, gathered batch by batch."""

    def __new__(cls) -> PairSampler: ...
    def add(self, extract: EncodedExtract) -> None: ...
    @property
    def household_level(self) -> int: ...
    def records(self) -> tuple[list[int], list[int | None], list[bytes]]: ...

def sample_cut(
    parts_level: int, smallest_ranks: list[int], levels: dict[int, int]
) -> tuple[int | None, int]: ...
def pair_stats_of_parts(
    schema: Schema, rank: int | None, level: int, samples: list[bytes]
) -> str: ...
