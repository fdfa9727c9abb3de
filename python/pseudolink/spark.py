"""pseudolink on Apache Spark: encode and link DataFrames on the executors.

Needs ``pyspark`` (``pip install "pseudolink[spark]"``) and pyarrow; ``import pseudolink`` never
does. Every function runs the Rust core inside ``mapInArrow`` on the executors, through the same
functions as the ``pseudolink`` command-line tool, so values are the same. Nothing here uses a
``sparkContext`` or JVM code of its own: it works under Spark Connect (Databricks shared
clusters, Fabric) as on a classic cluster. See ``docs/spark.md``.

The secret reaches the executors only as a file that each one reads (a mounted secret): the
functions take its path, never its bytes, so it is never in a DataFrame, a broadcast, a query
plan or a log.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from pseudolink import _native

__all__ = ["SparkExtract", "SparkLinkage", "dedupe", "encode", "link"]

# Internal columns, prefixed so that they cannot clash with a schema's columns.
_LINE = "_pl_line"
_DUP = "_pl_first_line"
_KIND = "_pl_kind"
_MANIFEST = "_pl_manifest"
# The pair statistics' sampled records: rank key, household level, the record's bytes.
_RANK = "_pl_rank"
_LEVEL = "_pl_level"
_SAMPLE = "_pl_sample"
_REJECT_COLUMNS = ("line", "reason", "field", "message", "record_id")
_INPUT_NAME = "<spark.DataFrame>"


class SparkExtract:
    """The result of :func:`encode`: the encoded rows, the rejected rows and the manifest.

    ``encoded`` has the columns of the CLI's encoded extract (``record_id`` first, all strings,
    null where a value is missing) and ``rejected`` those of its rejects file (``line``,
    ``reason``, ``field``, ``message``, ``record_id``). Both are lazy DataFrames over one
    persisted encoding pass; ``manifest`` was computed when :func:`encode` returned, so its
    counts are final: ``rows_read = encoded + rejected``. It holds the extract's pair
    statistics (``pair_stats``), equal to those ``pseudolink encode`` computes for the same
    rows, for the linkage unit's training.
    """

    def __init__(self, combined: Any, columns: list[str], manifest: dict[str, Any]) -> None:
        from pyspark.sql import functions as F

        self._combined = combined
        #: The columns of the encoded extract, ``record_id`` first.
        self.columns = columns
        #: The manifest of the whole job (see docs/formats.md), as a dict.
        self.manifest = manifest
        #: The encoded rows, as a DataFrame with the encoded extract's columns.
        self.encoded = combined.filter(F.col(_KIND) == "encoded").select(
            *[F.col(f"`{c}`") for c in columns]
        )
        #: The rejected rows with their line (as in a CSV export: the first row is line 2),
        #: reason, field, message and record id.
        self.rejected = combined.filter(F.col(_KIND) == "rejected").select(
            F.col(_LINE).alias("line"),
            *[F.col(f"_pl_{c}").alias(c) for c in _REJECT_COLUMNS[1:]],
        )

    def unpersist(self) -> None:
        """Frees the persisted encoding pass (``encoded`` and ``rejected`` then re-encode)."""
        self._combined.unpersist()

    def __repr__(self) -> str:
        c = self.manifest["counts"]
        return (
            f"SparkExtract(rows_read={c['rows_read']}, encoded={c['encoded']}, "
            f"rejected={c['rejected']})"
        )


def encode(
    df: Any,
    schema: _native.Schema,
    *,
    secret_file: str,
    agreement: str | None = None,
    purpose: str | None = None,
) -> SparkExtract:
    """Encodes a Spark DataFrame of person records on the executors.

    ``secret_file`` is the path, on every executor, of the secret file (``pseudolink keygen``
    writes one): each executor reads it there; the driver does not need it. Columns are matched
    to the schema by name, as :func:`pseudolink.encode` matches a table's (numbers read as their
    text, dates as ISO dates); a column of a type it cannot read raises
    :class:`pseudolink.InputError` before any work is done.

    Rows that cannot be encoded (empty or repeated record id, oversized cell) are in the result's
    ``rejected`` with their reason; ``line`` is the row's position in the DataFrame as in a CSV
    export (the first row is line 2; partition by partition, in order). A record id repeated
    anywhere in the DataFrame is rejected on its later rows, as the CLI does in a file.

    The DataFrame is read twice (a row count per partition, then the encoding), so it must give
    the same rows in the same partitions each time (any file source does). The encoding pass is
    persisted (``MEMORY_AND_DISK``) until :meth:`SparkExtract.unpersist`.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    if not isinstance(schema, _native.Schema):
        raise TypeError(f"schema must be a pseudolink.Schema, not {type(schema).__name__}")
    if not isinstance(secret_file, str) or not secret_file:
        raise _native.InvalidArgumentError(
            "secret_file must be the path of the secret file on the executors (a str)"
        )
    for name in df.columns:
        if name.startswith("_pl_"):
            raise _native.InvalidArgumentError(
                f"column {name!r}: names starting with '_pl_' are reserved by pseudolink.spark"
            )
    columns = _check_input(df, schema)
    rid = schema.record_id

    # Each row's line: partition by partition, in order (monotonically_increasing_id holds the
    # partition in its upper 31 bits and the position within it in the lower 33).
    tagged = df.withColumn("_pl_mid", F.monotonically_increasing_id())
    part = F.expr("shiftright(_pl_mid, 33)")
    sizes = sorted(
        (int(r[0]), int(r[1])) for r in tagged.groupBy(part.alias("p")).count().collect()
    )
    offsets: list[Any] = []
    start = 2
    for p, n in sizes:
        offsets += [F.lit(p).cast("long"), F.lit(start).cast("long")]
        start += n
    if not offsets:
        offsets = [F.lit(0).cast("long"), F.lit(2).cast("long")]
    first = F.create_map(*offsets)
    position = F.col("_pl_mid") - F.expr("shiftleft(shiftright(_pl_mid, 33), 33)")
    lined = tagged.withColumn(_LINE, first[part] + position).drop("_pl_mid")
    # A record id seen on an earlier row: the later rows are rejected (empty ids are the core's).
    if rid in df.columns:
        key = F.col(f"`{rid}`").cast("string")
        earliest = F.min(_LINE).over(Window.partitionBy(key))
        lined = lined.withColumn(
            _DUP,
            F.when(key.isNotNull() & (key != "") & (earliest < F.col(_LINE)), earliest).otherwise(
                F.lit(None).cast("long")
            ),
        )
    else:
        lined = lined.withColumn(_DUP, F.lit(None).cast("long"))

    out_schema = _output_schema(columns)
    schema_json = schema.to_json()

    def run(batches: Iterator[Any]) -> Iterator[Any]:
        return _encode_partition(batches, schema_json, secret_file, columns, agreement, purpose)

    combined = lined.mapInArrow(run, out_schema).persist()
    try:
        rows = _mapped_errors(
            lambda: combined.filter(F.col(_KIND) == "manifest").select(_MANIFEST, _LEVEL).collect()
        )
        manifest = _merge_manifests([json.loads(r[0]) for r in rows])
        parts_level = max((int(r[1]) for r in rows), default=0)
        manifest["pair_stats"] = _pair_stats(combined, schema, parts_level)
    except BaseException:
        combined.unpersist()
        raise
    return SparkExtract(combined, columns, manifest)


def _pair_stats(combined: Any, schema: _native.Schema, parts_level: int) -> dict[str, Any]:
    """The pair statistics of the whole DataFrame from its partitions' sampled records: the
    core's cut picks the records the CLI's sampler would keep from one stream of every row (the
    smallest ranks, the households under the limit of the whole), on the cluster; only those
    (a few thousand) reach the driver, which counts their pairs."""
    from pyspark.sql import functions as F

    samples = combined.filter(F.col(_KIND) == "sample")
    ranks = [
        int(r[0])
        for r in samples.select(_RANK).orderBy(_RANK).limit(_native.RANDOM_SAMPLE).collect()
    ]
    levels = {
        int(r[0]): int(r[1])
        for r in samples.filter(F.col(_LEVEL).isNotNull()).groupBy(_LEVEL).count().collect()
    }
    rank_cut, level_cut = _native.sample_cut(parts_level, ranks, levels)
    keep = F.col(_LEVEL) >= F.lit(level_cut)
    if rank_cut is not None:
        keep = keep | (F.col(_RANK) <= F.lit(rank_cut))
    picked = [bytes(r[0]) for r in samples.filter(keep).select(_SAMPLE).collect()]
    stats: dict[str, Any] = json.loads(
        _native.pair_stats_of_parts(schema, rank_cut, level_cut, picked)
    )
    return stats


def _check_input(df: Any, schema: _native.Schema) -> list[str]:
    """Checks the DataFrame's columns and types on the driver by encoding none of its rows (under
    a throwaway secret), which raises what encoding them would: the core's own checks. Returns
    the encoded extract's columns."""
    import pyarrow as pa

    arrow_schema = _arrow_schema(df)
    # One batch of no rows: the columns' types are checked batch by batch.
    empty = pa.Table.from_batches([pa.RecordBatch.from_pylist([], schema=arrow_schema)])
    extract = _native.encode_arrow(
        empty, schema, _native.Secret.generate(), input_name=_INPUT_NAME, keep_rejected=True
    )
    return list(extract.columns)


def _arrow_schema(df: Any) -> Any:
    """The Arrow schema Spark gives ``mapInArrow`` for ``df``."""
    try:
        from pyspark.sql.pandas.types import to_arrow_schema
    except ImportError:  # pragma: no cover - every supported pyspark has it
        return df.limit(0).toArrow().schema
    try:
        return to_arrow_schema(df.schema)
    except TypeError as e:
        raise _native.InputError(f"{_INPUT_NAME}: a column Arrow cannot hold: {e}") from None


def _output_schema(columns: list[str]) -> Any:
    from pyspark.sql.types import (
        BinaryType,
        IntegerType,
        LongType,
        StringType,
        StructField,
        StructType,
    )

    fields = [StructField(_KIND, StringType(), False), StructField(_LINE, LongType(), True)]
    fields += [StructField(c, StringType(), True) for c in columns]
    fields += [StructField(f"_pl_{c}", StringType(), True) for c in _REJECT_COLUMNS[1:]]
    fields.append(StructField(_MANIFEST, StringType(), True))
    fields.append(StructField(_RANK, LongType(), True))
    fields.append(StructField(_LEVEL, IntegerType(), True))
    fields.append(StructField(_SAMPLE, BinaryType(), True))
    return StructType(fields)


def _encode_partition(
    batches: Iterator[Any],
    schema_json: str,
    secret_file: str,
    columns: list[str],
    agreement: str | None,
    purpose: str | None,
) -> Iterator[Any]:
    """Runs on an executor: encodes the batches of one partition and yields the encoded rows, the
    rejected rows, the records its pair statistics' sampler kept and, last, the partition's
    manifest (with the sampler's household level)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    schema = _native.Schema.from_json(schema_json)
    secret = _native.Secret.from_file(secret_file)
    names = [_KIND, _LINE, *columns, *[f"_pl_{c}" for c in _REJECT_COLUMNS[1:]], _MANIFEST]
    out_types = [pa.string(), pa.int64(), *[pa.string()] * (len(names) - 2)]
    names += [_RANK, _LEVEL, _SAMPLE]
    out_types += [pa.int64(), pa.int32(), pa.binary()]
    arrow_out = pa.schema([pa.field(n, t) for n, t in zip(names, out_types)])

    def batch_of(kind: str, n: int, values: dict[str, Any]) -> Any:
        arrays = []
        for name, t in zip(names, out_types):
            if name == _KIND:
                arrays.append(pa.array([kind] * n, pa.string()))
            elif name in values:
                v = values[name]
                if isinstance(v, pa.ChunkedArray):
                    v = v.combine_chunks()
                arrays.append(v.cast(t) if isinstance(v, pa.Array) else pa.array(v, t))
            else:
                arrays.append(pa.nulls(n, t))
        return pa.RecordBatch.from_arrays(arrays, schema=arrow_out)

    manifests: list[dict[str, Any]] = []
    duplicates = 0
    sampler = _native.PairSampler()
    for batch in batches:
        lines = batch.column(_LINE)
        dup_first = batch.column(_DUP)
        is_dup = pc.is_valid(dup_first)
        if pc.any(is_dup).as_py():
            dup = batch.filter(is_dup)
            ids = dup.column(schema.record_id) if schema.record_id in dup.schema.names else None
            id_text = [None if v is None else str(v) for v in ids.to_pylist()] if ids else None
            firsts = dup.column(_DUP).to_pylist()
            yield batch_of(
                "rejected",
                dup.num_rows,
                {
                    _LINE: dup.column(_LINE),
                    "_pl_reason": ["duplicate_record_id"] * dup.num_rows,
                    "_pl_field": [schema.record_id] * dup.num_rows,
                    "_pl_message": [
                        f"record id already used on line {f} of the DataFrame" for f in firsts
                    ],
                    "_pl_record_id": id_text,
                },
            )
            duplicates += dup.num_rows
            batch = batch.filter(pc.invert(is_dup))
            lines = batch.column(_LINE)
        data = pa.Table.from_batches([batch]).drop_columns([_LINE, _DUP])
        extract = _native.encode_arrow(
            data,
            schema,
            secret,
            input_name=_INPUT_NAME,
            keep_rejected=True,
            agreement=agreement,
            purpose=purpose,
            keep_sample=True,
        )
        sampler.add(extract)
        manifests.append(extract.manifest)
        rejected = extract.rejected
        line_list = lines.to_pylist()
        if rejected:
            yield batch_of(
                "rejected",
                len(rejected),
                {
                    _LINE: [line_list[r["line"] - 2] for r in rejected],
                    **{f"_pl_{c}": [r[c] for r in rejected] for c in _REJECT_COLUMNS[1:]},
                },
            )
        if len(extract):
            gone = {r["line"] - 2 for r in rejected}
            kept = [line for i, line in enumerate(line_list) if i not in gone]
            table = extract.to_arrow()
            yield batch_of(
                "encoded",
                len(extract),
                {_LINE: kept, **{c: table.column(c) for c in columns}},
            )
    if not manifests:
        # An empty partition: the manifest of no rows, for the key check value and the schema.
        empty = _native.encode_python(
            {c: [] for c in schema.input_columns}, schema, secret, input_name=_INPUT_NAME
        )
        manifests.append(empty.manifest)
    level = sampler.household_level
    ranks, levels, samples = sampler.records()
    if ranks:
        yield batch_of("sample", len(ranks), {_RANK: ranks, _LEVEL: levels, _SAMPLE: samples})
    merged = _merge_manifests(manifests)
    merged["counts"]["rows_read"] += duplicates
    merged["counts"]["rejected"] += duplicates
    if duplicates:
        by_reason = merged.setdefault("rejected_by_reason", {})
        by_reason["duplicate_record_id"] = by_reason.get("duplicate_record_id", 0) + duplicates
    yield batch_of("manifest", 1, {_MANIFEST: [json.dumps(merged)], _LEVEL: [level]})


def _add_counts(into: dict[str, Any], more: dict[str, Any]) -> None:
    for k, v in more.items():
        if isinstance(v, dict):
            _add_counts(into.setdefault(k, {}), v)
        elif isinstance(v, int) and not isinstance(v, bool):
            into[k] = into.get(k, 0) + v


def _merge_manifests(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """One manifest for many batches: counts added; the run spans the earliest start to the
    latest finish. Pair statistics are left out: :func:`encode` counts them for the whole
    DataFrame from the partitions' samples."""
    if not parts:
        raise _native.InternalError("pseudolink.spark: no partition reported a manifest")
    merged: dict[str, Any] = json.loads(json.dumps(parts[0]))
    for key in ("counts", "rejected_by_reason", "missing"):
        merged[key] = {}
        for p in parts:
            _add_counts(merged[key], p.get(key) or {})
    for k in ("rows_read", "encoded", "rejected"):
        merged["counts"].setdefault(k, 0)
    run = merged.get("run") or {}
    starts = [p["run"]["started_at"] for p in parts if p.get("run", {}).get("started_at")]
    ends = [p["run"]["finished_at"] for p in parts if p.get("run", {}).get("finished_at")]
    if starts:
        run["started_at"] = min(starts)
    if ends:
        run["finished_at"] = max(ends)
    inputs = merged.get("input") or {}
    inputs["bytes"] = sum(int((p.get("input") or {}).get("bytes") or 0) for p in parts)
    # No one input file: no hash of its bytes or keyed name (empty, as a manifest holds text).
    for k in ("blake3", "path_keyed"):
        if k in inputs:
            inputs[k] = ""
    merged.pop("pair_stats", None)
    return merged


_ERROR = re.compile(r"pseudolink(?:\._native)?\.(\w+Error): (.*)")


def _mapped_errors(action: Any) -> Any:
    """Runs a Spark action; a pseudolink error raised on an executor (which Spark reports as its
    own exception with the text of the Python one) is raised again as its pseudolink class."""
    try:
        return action()
    except _native.PseudolinkError:
        raise
    except Exception as e:
        found = _ERROR.search(str(e))
        cls = getattr(_native, found.group(1), None) if found else None
        if found and isinstance(cls, type) and issubclass(cls, _native.PseudolinkError):
            raise cls(f"on a Spark executor: {found.group(2).strip()}") from e
        raise


# ---------------------------------------------------------------------------------------------
# Linking


class SparkLinkage:
    """The result of :func:`link` and :func:`dedupe`.

    ``links`` has the columns of the CLI's links file: ``left_id``, ``right_id``,
    ``match_weight``, ``match_probability``, ``band`` (``match`` or ``review``) and
    ``cluster_id`` (null for ``review``; with ``one_to_one``, the accepted pair's number), plus
    ``left_source`` and ``right_source`` (the inputs' positions, 0 first). ``blocking`` is the
    blocking report, as the run summary's: per rule its ``pairs``, ``new_pairs`` (not formed by
    an earlier rule), ``blocks`` and ``skipped_blocks``, the ``candidate_pairs`` over all rules,
    and the ``skipped`` blocks' sizes per source (largest first, at most ``skipped_listed`` of
    them).
    """

    def __init__(
        self,
        links: Any,
        blocking: dict[str, Any],
        model_json: str,
        persisted: list[Any],
        trained: bool = False,
    ) -> None:
        self._persisted = persisted
        #: The links, as a DataFrame (see the class documentation).
        self.links = links
        #: The blocking report.
        self.blocking = blocking
        #: The model the pairs were scored with (a model file's JSON): the one given, or the
        #: one trained in this run (write it to a file to use it again as ``model=``).
        self.model_json = model_json
        #: Whether the model was trained in this run (``model=None``).
        self.trained = trained

    def unpersist(self) -> None:
        """Frees the records, candidate pairs and scores persisted for ``links``."""
        for p in self._persisted:
            p.unpersist()

    def __repr__(self) -> str:
        return f"SparkLinkage(candidate_pairs={self.blocking['candidate_pairs']})"


def link(
    left: Any,
    right: Any,
    schema: _native.Schema | None = None,
    *,
    model: str | None = None,
    manifests: list[Any] | None = None,
    threshold: float = 0.9,
    review_threshold: float = 0.5,
    cluster_support: float = 0.5,
    one_to_one: bool = False,
    skipped_listed: int = 100,
) -> SparkLinkage:
    """Links encoded extracts held as Spark DataFrames on the cluster.

    ``link(left, right, schema, ...)`` links two extracts; ``link([df1, df2, df3], schema,
    ...)`` several (pairs from different inputs only). Each DataFrame has the encoded
    extract's columns (as :attr:`SparkExtract.encoded`, an encoded CSV read with
    ``spark.read.csv(path, header=True)``, or a Parquet extract read with
    ``spark.read.parquet(path)``, whose binary columns are read as the CSV's hex and base64);
    other columns are ignored.

    Candidate pairs are formed from the blocking rules' tokens (all rules in one shuffle of the
    tokens), each pair once (by the first rule forming it), blocks over ``schema``'s
    ``max_block_size`` skipped and reported; pairs are compared in ``mapInArrow`` by the Rust
    comparator.

    ``model`` is the path of a model file (as ``pseudolink link --model`` takes; read on the
    driver). Without one, a model is trained as ``pseudolink link`` trains it: the pairs are
    counted per comparison pattern on the cluster and the counts fitted on the driver by the
    Rust core (EM per training rule, u from the pair statistics of ``manifests``: one per
    input, each a manifest file's path or a manifest as a dict, or None for an input without
    one). The model is in the result's ``model_json``.

    Competing links (the schema's ``link.competition`` when training, or a model that has them;
    not deduplicating) are weighed as the CLI weighs them: each pair at or above
    ``review_threshold`` gets its standing's weight, from aggregations over those pairs on the
    cluster; training estimates the weights on the driver and stores them in the model.

    Resolution is the CLI's: clusters of the pairs at or above ``threshold`` with the guard
    against chaining (``cluster_support``, default 0.5 as ``--cluster-support``; 0 gives plain
    connected components), or with ``one_to_one`` (two inputs) a one-to-one assignment, as
    ``--one-to-one``. Every candidate pair inside a cluster is a ``match`` row; other pairs at or
    above ``review_threshold`` are ``review`` rows.
    """
    if isinstance(left, (list, tuple)):
        if schema is not None:
            raise TypeError("link([df1, df2, ...], schema, ...) takes the schema second")
        sources, schema = list(left), right
        if len(sources) < 2:
            raise _native.InvalidArgumentError("link() needs at least two DataFrames")
    else:
        sources = [left, right]
    options = _Options(threshold, review_threshold, cluster_support, one_to_one, skipped_listed)
    return _link(sources, schema, model, manifests, options)


def dedupe(
    df: Any,
    schema: _native.Schema,
    *,
    model: str | None = None,
    manifest: Any = None,
    threshold: float = 0.9,
    review_threshold: float = 0.5,
    cluster_support: float = 0.5,
    skipped_listed: int = 100,
) -> SparkLinkage:
    """Finds the records of one encoded extract that are the same person, as :func:`link` does
    for two (pairs within the DataFrame; ``left_id`` is the record earlier in it). Without a
    ``model``, one is trained, with u from ``manifest`` (the extract's manifest: a path or a
    dict)."""
    options = _Options(threshold, review_threshold, cluster_support, False, skipped_listed)
    return _link([df], schema, model, None if manifest is None else [manifest], options)


class _Options:
    """The thresholds and resolution of a linking run."""

    def __init__(
        self,
        threshold: float,
        review_threshold: float,
        cluster_support: float,
        one_to_one: bool,
        skipped_listed: int,
    ) -> None:
        for name, p in (
            ("threshold", threshold),
            ("review_threshold", review_threshold),
            ("cluster_support", cluster_support),
        ):
            if isinstance(p, bool) or not (isinstance(p, (int, float)) and 0.0 <= float(p) <= 1.0):
                raise _native.InvalidArgumentError(f"{name} must be a number from 0 to 1")
        if review_threshold > threshold:
            raise _native.InvalidArgumentError(
                f"the review threshold {review_threshold} is above the match threshold {threshold}"
            )
        self.threshold = float(threshold)
        self.review_threshold = float(review_threshold)
        self.cluster_support = float(cluster_support)
        self.one_to_one = bool(one_to_one)
        self.skipped_listed = int(skipped_listed)


def _as_text(df: Any, column: str) -> Any:
    """Column ``column`` of ``df`` as the encoded CSV extract's text: a binary column (a Parquet
    extract read by ``spark.read.parquet``) as lower-case hex (tokens and token sets) or base64
    (filters, the columns named ``*.bloom``), as ``pseudolink encode`` writes them to CSV."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import BinaryType

    cell = F.col(f"`{column}`")
    if not isinstance(df.schema[column].dataType, BinaryType):
        return cell.cast("string")
    if column.endswith(".bloom"):
        # Some Spark versions break base64 into lines of 76 characters (MIME).
        return F.regexp_replace(F.base64(cell), "[\\r\\n]", "")
    return F.lower(F.hex(cell))


def _manifest_texts(manifests: list[Any] | None, n: int) -> list[str]:
    """The manifests' JSON (paths read on the driver, dicts serialised), Nones left out."""
    import os

    if manifests is None:
        raise _native.InvalidArgumentError(
            "training a model (model=None) needs the inputs' manifests (manifests=[...], one "
            "per input: a path or a dict), whose pair statistics give the u probabilities; or "
            "give a trained model (model=PATH)"
        )
    if len(manifests) != n:
        raise _native.InvalidArgumentError(
            f"{len(manifests)} manifests for {n} inputs: give one per input (None for none)"
        )
    texts = []
    for m in manifests:
        if m is None:
            continue
        if isinstance(m, dict):
            texts.append(json.dumps(m))
            continue
        try:
            with open(os.fspath(m), encoding="utf-8") as f:
                texts.append(f.read())
        except OSError as e:
            raise _native.FileError(f"cannot read manifest file {m}: {e.strerror}") from None
    return texts


def _link(
    sources: list[Any],
    schema: Any,
    model: str | None,
    manifests: list[Any] | None,
    options: _Options,
) -> SparkLinkage:
    from pyspark.sql import functions as F

    if not isinstance(schema, _native.Schema):
        raise TypeError(f"schema must be a pseudolink.Schema, not {type(schema).__name__}")
    threshold, review_threshold = options.threshold, options.review_threshold
    skipped_listed = options.skipped_listed
    if options.one_to_one and len(sources) != 2:
        raise _native.InvalidArgumentError(
            "one-to-one assignment needs exactly two inputs (left and right)"
        )
    import os

    model_json: str | None = None
    manifest_texts: list[str] = []
    if model is None:
        manifest_texts = _manifest_texts(manifests, len(sources))
    else:
        try:
            with open(os.fspath(model), encoding="utf-8") as f:
                model_json = f.read()
        except OSError as e:
            raise _native.FileError(f"cannot read model file {model}: {e.strerror}") from None
    scorer = _native.PairScorer(schema, model_json)  # checks the model fits the schema
    columns = scorer.columns
    rules = _native.blocking_columns(schema)
    max_block = int(json.loads(schema.to_json())["link"]["max_block_size"])

    # The records of every input: source, position in it, the extract's columns as text.
    parts = []
    for s, df in enumerate(sources):
        missing = [c for c in columns if c not in df.columns]
        if missing:
            raise _native.InputError(
                f"input {s} has no column {missing[0]!r}: an encoded extract has the columns "
                f"{', '.join(columns)}"
            )
        parts.append(
            df.select(
                F.lit(s).alias("_pl_src"),
                F.monotonically_increasing_id().alias("_pl_pos"),
                *[_as_text(df, c).alias(c) for c in columns],
            )
        )
    records = parts[0]
    for p in parts[1:]:
        records = records.unionByName(p)
    records = records.persist()
    persisted = [records]

    # Blocking, in one pass over all the rules: the candidate pairs, each once, by its first rule.
    try:
        candidates, blocking = _candidate_pairs(
            records, rules, len(sources), max_block, skipped_listed
        )
    except BaseException:
        records.unpersist()
        raise
    persisted.append(candidates)

    # Comparison and scoring on the executors.
    # Positional names: Spark reads a dot in a name as a field of a struct.
    left_cols = [F.col(f"`{c}`").alias(f"l{i}") for i, c in enumerate(columns)]
    right_cols = [F.col(f"`{c}`").alias(f"r{i}") for i, c in enumerate(columns)]
    lrec = records.select(F.col("_pl_src").alias("ls"), F.col("_pl_pos").alias("lp"), *left_cols)
    rrec = records.select(F.col("_pl_src").alias("rs"), F.col("_pl_pos").alias("rp"), *right_cols)
    joined = candidates.join(lrec, ["ls", "lp"]).join(rrec, ["rs", "rp"])
    from pyspark.sql.types import (
        DoubleType,
        IntegerType,
        LongType,
        StringType,
        StructField,
        StructType,
    )

    scored_schema = StructType(
        [
            StructField("ls", IntegerType(), False),
            StructField("lp", LongType(), False),
            StructField("rs", IntegerType(), False),
            StructField("rp", LongType(), False),
            StructField("left_id", StringType(), False),
            StructField("right_id", StringType(), False),
            StructField("match_weight", DoubleType(), False),
            StructField("match_probability", DoubleType(), False),
        ]
    )
    schema_json = schema.to_json()
    pair_columns = joined.select(
        "ls",
        "lp",
        "rs",
        "rp",
        *[f"l{i}" for i in range(len(columns))],
        *[f"r{i}" for i in range(len(columns))],
    )
    try:
        if model_json is None:
            model_json, scored = _train_and_score(
                pair_columns,
                records,
                schema,
                columns,
                manifest_texts,
                len(sources),
                blocking["candidate_pairs"],
                persisted,
            )
        else:
            given = model_json

            def score(batches: Iterator[Any]) -> Iterator[Any]:
                return _score_partition(batches, schema_json, given, columns)

            scored = pair_columns.mapInArrow(score, scored_schema).persist()
            persisted.append(scored)
            _mapped_errors(scored.count)
        # Competing links: the pairs at or above the review threshold get their standing's
        # weight (estimated here when training, else the given model's), as the CLI adds it.
        model_json, scored = _compete(
            scored, schema, model_json, model is None, len(sources), review_threshold, persisted
        )
    except BaseException:
        for p in persisted:
            p.unpersist()
        raise

    # Clusters: connected components of the pairs at or above the threshold, resolved (the
    # guard, or one-to-one) component by component.
    edges = scored.filter(F.col("match_probability") >= F.lit(float(threshold))).select(
        F.struct(F.col("ls").alias("s"), F.col("lp").alias("p")).alias("a"),
        F.struct(F.col("rs").alias("s"), F.col("rp").alias("p")).alias("b"),
    )
    cluster = _components(edges)
    if options.one_to_one or options.cluster_support > 0:
        cluster = _resolve_components(scored, cluster, len(sources), options)
    numbered = cluster.select("label").distinct()
    from pyspark.sql import Window

    numbered = numbered.withColumn(
        "cluster_id", F.dense_rank().over(Window.orderBy("label")).cast("int")
    )
    cluster = cluster.join(numbered, "label").select("node", "cluster_id").persist()
    persisted.append(cluster)
    lc = cluster.select(F.col("node").alias("ln"), F.col("cluster_id").alias("lc"))
    rc = cluster.select(F.col("node").alias("rn"), F.col("cluster_id").alias("rc"))
    with_nodes = scored.withColumn(
        "ln", F.struct(F.col("ls").alias("s"), F.col("lp").alias("p"))
    ).withColumn("rn", F.struct(F.col("rs").alias("s"), F.col("rp").alias("p")))
    banded = (
        with_nodes.join(lc, "ln", "left")
        .join(rc, "rn", "left")
        .withColumn(
            "band",
            F.when(F.col("lc").isNotNull() & (F.col("lc") == F.col("rc")), "match").when(
                F.col("match_probability") >= F.lit(float(review_threshold)), "review"
            ),
        )
        .filter(F.col("band").isNotNull())
        .select(
            "left_id",
            "right_id",
            "match_weight",
            "match_probability",
            "band",
            F.when(F.col("band") == "match", F.col("lc")).alias("cluster_id"),
            F.col("ls").alias("left_source"),
            F.col("rs").alias("right_source"),
        )
    )
    if options.one_to_one:
        # A pair at or above the threshold that was not accepted is displaced (not listed, as
        # the CLI does); accepted pairs are numbered in output order.
        banded = banded.filter(
            (F.col("band") == "match") | (F.col("match_probability") < F.lit(threshold))
        )
        order = Window.orderBy("left_source", "left_id", "right_source", "right_id")
        banded = banded.withColumn(
            "cluster_id",
            F.when(
                F.col("band") == "match",
                F.sum(F.when(F.col("band") == "match", 1).otherwise(0)).over(order).cast("int"),
            ),
        )
    return SparkLinkage(banded, blocking, model_json, persisted, trained=model is None)


def _candidate_pairs(
    records: Any,
    rules: list[tuple[str, str, bool, str | None]],
    n_sources: int,
    max_block: int,
    skipped_listed: int,
) -> tuple[Any, dict[str, Any]]:
    """The candidate pairs of ``records`` (``_pl_src``, ``_pl_pos`` and the extract's columns as
    text) under the blocking ``rules`` (as ``_native.blocking_columns`` gives them), in two
    Spark jobs whatever the number of rules, and the blocking report.

    Each record's tokens of every rule are exploded at once into memberships ``(source,
    position, rule, token)``; one shuffle by ``(rule, token)`` (a window) counts each block's
    records per source, and a group by the same key, with no second shuffle, gives each block
    its sizes and its members. A block is a token held by records of two sources (deduplicating:
    by two records); one with more than ``max_block`` records of any one source is skipped: its
    members are not collected, only counted. The first job aggregates the blocks per rule for
    the report; the second forms each kept block's pairs from its member list (no join) and
    keeps each pair once, by the least rule forming it. Returns the candidate pairs (``ls``,
    ``lp``, ``rs``, ``rp``, ``_pl_rule``), persisted, and the report."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    dedupe = n_sources == 1
    entry = "array<struct<r:int,k:string>>"
    tokens = []
    for r, (_, column, is_set, crossed) in enumerate(rules):
        cell = F.col(f"`{column}`")
        present = cell.isNotNull() & (cell != "")
        if crossed is not None:
            # A crossed rule: the record's two tokens as an unordered pair, when it has both.
            other = F.col(f"`{crossed}`")
            present = present & other.isNotNull() & (other != "")
            key = F.concat(F.least(cell, other), F.greatest(cell, other))
            held = F.array(F.struct(F.lit(r).alias("r"), key.alias("k")))
        elif is_set:
            w = 16
            held = F.expr(
                f"transform(sequence(0, int(length(`{column}`) / {w}) - 1), "
                f"i -> named_struct('r', {r}, 'k', substring(`{column}`, i * {w} + 1, {w})))"
            )
        else:
            held = F.array(F.struct(F.lit(r).alias("r"), cell.alias("k")))
        tokens.append(F.when(present, held.cast(entry)).otherwise(F.array().cast(entry)))
    # A record is in a block once, however often a token set repeats the token.
    members = records.select(
        "_pl_src", "_pl_pos", F.explode(F.array_distinct(F.concat(*tokens))).alias("_pl_t")
    ).select(
        "_pl_src",
        "_pl_pos",
        F.col("_pl_t.r").alias("_pl_rule"),
        F.col("_pl_t.k").alias("_pl_key"),
    )
    block = Window.partitionBy("_pl_rule", "_pl_key")
    sizes = [f"n{s}" for s in range(n_sources)]
    counted = members.select(
        "*",
        *[
            F.count(F.when(F.col("_pl_src") == s, 1)).over(block).alias(sizes[s])
            for s in range(n_sources)
        ],
    )
    too_big = F.greatest(*[F.col(x) for x in sizes], F.lit(0)) > max_block
    # Grouped by the window's key: Spark keeps its partitioning, so this is no second shuffle.
    n_with = sum((F.when(F.col(x) > 0, 1).otherwise(0) for x in sizes), F.lit(0))
    blocks = (
        counted.groupBy("_pl_rule", "_pl_key")
        .agg(
            *[F.first(x).alias(x) for x in sizes],
            F.collect_list(
                F.when(~too_big, F.struct(F.col("_pl_src").alias("s"), F.col("_pl_pos").alias("p")))
            ).alias("_pl_m"),
        )
        .withColumn("n", sum((F.col(x) for x in sizes), F.lit(0)))
        .filter((F.col("n") >= 2) if dedupe else (n_with >= 2))
        .withColumn("_pl_skip", too_big)
        .persist()
    )
    try:
        # Job 1: the report per rule. Pairs a block forms: across sources, or (deduplicating)
        # within its one source; skipped blocks, largest first (as the CLI lists them).
        n = F.col("n").cast("long")
        if dedupe:
            block_pairs = n * (n - 1) / 2
        else:
            squares = sum((F.col(x).cast("long") ** 2 for x in sizes), F.lit(0))
            block_pairs = (n * n - squares) / 2
        largest = F.struct(
            (-F.col("n")).alias("order"),
            F.array(*[-F.col(x) for x in sizes]).alias("then"),
            F.array(*[F.col(x) for x in sizes]).alias("sizes"),
        )
        per_rule = _mapped_errors(
            lambda: (
                blocks.groupBy("_pl_rule")
                .agg(
                    F.count(F.lit(1)).alias("blocks"),
                    F.sum(F.col("_pl_skip").cast("long")).alias("skipped"),
                    F.sum(F.when(~F.col("_pl_skip"), block_pairs).otherwise(0)).alias("pairs"),
                    F.slice(
                        F.sort_array(F.collect_list(F.when(F.col("_pl_skip"), largest))),
                        1,
                        max(0, skipped_listed),
                    ).alias("largest"),
                )
                .collect()
            )
        )
        report_rules: list[dict[str, Any]] = [
            {"rule": rule, "pairs": 0, "new_pairs": 0, "blocks": 0, "skipped_blocks": 0}
            for rule, _, _, _ in rules
        ]
        skipped: list[dict[str, Any]] = []
        for row in per_rule:
            r = int(row["_pl_rule"])
            report_rules[r]["pairs"] = int(row["pairs"] or 0)
            report_rules[r]["blocks"] = int(row["blocks"] or 0)
            report_rules[r]["skipped_blocks"] = int(row["skipped"] or 0)
            for b in row["largest"] or []:
                skipped.append({"rule": rules[r][0], "sizes": [int(x) for x in b["sizes"]]})
        skipped.sort(key=lambda x: (-sum(x["sizes"]), x["rule"], [-v for v in x["sizes"]]))
        del skipped[max(0, skipped_listed) :]

        # Job 2: each kept block's pairs from its member list, each pair once by its first rule.
        # Deduplicating, the earlier record first; linking, the earlier input's.
        cond = (F.col("a.p") < F.col("b.p")) if dedupe else (F.col("a.s") < F.col("b.s"))
        candidates = (
            blocks.filter(~F.col("_pl_skip"))
            .select("_pl_rule", "_pl_m", F.explode("_pl_m").alias("a"))
            .select("_pl_rule", "a", F.explode("_pl_m").alias("b"))
            .filter(cond)
            .groupBy(
                F.col("a.s").alias("ls"),
                F.col("a.p").alias("lp"),
                F.col("b.s").alias("rs"),
                F.col("b.p").alias("rp"),
            )
            .agg(F.min("_pl_rule").alias("_pl_rule"))
            .persist()
        )
        try:
            for row in _mapped_errors(lambda: candidates.groupBy("_pl_rule").count().collect()):
                report_rules[int(row["_pl_rule"])]["new_pairs"] = int(row["count"])
        except BaseException:
            candidates.unpersist()
            raise
    finally:
        blocks.unpersist()
    blocking: dict[str, Any] = {
        "candidate_pairs": sum(int(e["new_pairs"]) for e in report_rules),
        "rules": report_rules,
        "skipped": skipped,
    }
    return candidates, blocking


def _components(edges: Any, max_rounds: int = 64) -> Any:
    """The connected components of an edge list (columns ``a`` and ``b``, orderable node keys):
    a DataFrame of ``node`` and ``label`` (the component's least node), by label propagation in
    Spark, one join per round until no label changes. Each round's labels are checkpointed
    locally (``localCheckpoint``), so the query plan does not grow with the rounds."""
    from pyspark.sql import functions as F

    both = (
        edges.select("a", "b")
        .unionByName(edges.select(F.col("b").alias("a"), F.col("a").alias("b")))
        .localCheckpoint()
    )
    labels = (
        both.groupBy(F.col("a").alias("node"))
        .agg(F.least(F.min("b"), F.first("a")).alias("label"))
        .localCheckpoint()
    )
    for _ in range(max_rounds):
        # Each node takes the least label among its own and its neighbours'.
        spread = (
            both.join(labels.select(F.col("node").alias("b"), F.col("label").alias("lb")), "b")
            .groupBy(F.col("a").alias("node"))
            .agg(F.min("lb").alias("lb"))
        )
        new = (
            labels.join(spread, "node")
            .select(
                "node",
                F.least("label", "lb").alias("label"),
                (F.col("lb") < F.col("label")).alias("moved"),
            )
            .localCheckpoint()
        )
        changed = new.filter("moved").count()
        labels = new.drop("moved")
        if changed == 0:
            return labels
    raise _native.InternalError(
        f"connected components did not settle in {max_rounds} rounds (a chain of that length)"
    )


def _train_and_score(
    pair_columns: Any,
    records: Any,
    schema: _native.Schema,
    columns: list[str],
    manifest_texts: list[str],
    n_sources: int,
    candidate_pairs: int,
    persisted: list[Any],
) -> tuple[str, Any]:
    """Trains a model on the candidate pairs (pattern counts aggregated in Spark, fitted on the
    driver by the core) and scores the pairs by their pattern's weight. Returns the model's
    JSON and the scored pairs (as :func:`_score_partition` gives them)."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import (
        BinaryType,
        DoubleType,
        IntegerType,
        LongType,
        StringType,
        StructField,
        StructType,
    )

    schema_json = schema.to_json()
    compared_schema = StructType(
        [
            StructField("ls", IntegerType(), False),
            StructField("lp", LongType(), False),
            StructField("rs", IntegerType(), False),
            StructField("rp", LongType(), False),
            StructField("left_id", StringType(), False),
            StructField("right_id", StringType(), False),
            StructField("pattern", BinaryType(), False),
        ]
    )

    def compare(batches: Iterator[Any]) -> Iterator[Any]:
        return _pattern_partition(batches, schema_json, columns)

    compared = pair_columns.mapInArrow(compare, compared_schema).persist()
    persisted.append(compared)
    counts = _mapped_errors(lambda: compared.groupBy("pattern").count().collect())
    patterns = [(bytes(r["pattern"]), int(r["count"])) for r in counts]
    sizes = [0] * n_sources
    for r in records.groupBy("_pl_src").count().collect():
        sizes[int(r["_pl_src"])] = int(r["count"])
    model_json = _native.train_model(schema, patterns, manifest_texts, sizes, candidate_pairs)
    scorer = _native.PairScorer(schema, model_json)
    keys = [p for p, _ in patterns]
    weights = [(k, w, p) for k, (w, p) in zip(keys, scorer.pattern_weights(keys), strict=True)]
    table = compared.sparkSession.createDataFrame(
        weights,
        StructType(
            [
                StructField("pattern", BinaryType(), False),
                StructField("match_weight", DoubleType(), False),
                StructField("match_probability", DoubleType(), False),
            ]
        ),
    )
    scored = (
        compared.join(F.broadcast(table), "pattern")
        .select("ls", "lp", "rs", "rp", "left_id", "right_id", "match_weight", "match_probability")
        .persist()
    )
    persisted.append(scored)
    scored.count()
    return model_json, scored


def _compete(
    scored: Any,
    schema: _native.Schema,
    model_json: str,
    trained: bool,
    n_sources: int,
    review_threshold: float,
    persisted: list[Any],
) -> tuple[str, Any]:
    """Competing links (docs/linking.md, "Competing links"), as ``pseudolink link`` weighs them:
    over the scored pairs at or above the review threshold, one aggregation by (record, other
    record's source) gives each record's best match weight and number of pairs, joined back to
    both records of each pair; the core reads each pair's standing from them. Training, the
    pairs' match probabilities (and one minus them) are summed per standing and the core
    estimates the model's competing links on the driver (the model's JSON gets them, as the
    CLI's model file has them). Then each such pair's match weight gets its standing's weight,
    and its probability follows. Returns the model's JSON and the scored pairs, every pair below
    the review threshold unchanged. Nothing changes when the run does not weigh competing links
    (deduplicating; training without ``link.competition``; a model without them)."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import IntegerType, StructField, StructType

    if not _native.competes(schema, None if trained else model_json, n_sources):
        return model_json, scored
    at_review = F.col("match_probability") >= F.lit(float(review_threshold))
    pairs = scored.filter(at_review)
    weight = F.col("match_weight")
    sides = pairs.select(
        F.col("ls").alias("s"), F.col("lp").alias("p"), F.col("rs").alias("o"), weight
    ).unionByName(
        pairs.select(F.col("rs").alias("s"), F.col("rp").alias("p"), F.col("ls").alias("o"), weight)
    )
    best = sides.groupBy("s", "p", "o").agg(
        F.max("match_weight").alias("best"), F.count(F.lit(1)).alias("n")
    )

    def neighbours(me: str, other: str) -> Any:
        """``best`` as the columns of one side (``l`` or ``r``) of a pair."""
        return best.select(
            F.col("s").alias(f"{me}s"),
            F.col("p").alias(f"{me}p"),
            F.col("o").alias(f"{other}s"),
            F.col("best").alias(f"_pl_{me}best"),
            F.col("n").alias(f"_pl_{me}n"),
        )

    left, right = neighbours("l", "r"), neighbours("r", "l")
    columns = scored.columns
    joined = (
        pairs.join(left, ["ls", "lp", "rs"])
        .join(right, ["rs", "rp", "ls"])
        .select(*columns, "_pl_lbest", "_pl_ln", "_pl_rbest", "_pl_rn")
    )
    with_standing = StructType(
        [*scored.schema.fields, StructField("standing", IntegerType(), False)]
    )
    standings = joined.mapInArrow(_standing_partition, with_standing)
    if trained:
        standings = standings.persist()
        persisted.append(standings)
        sums = _mapped_errors(
            lambda: (
                standings.groupBy("standing")
                .agg(
                    F.sum("match_probability").alias("m"),
                    F.sum(F.lit(1.0) - F.col("match_probability")).alias("u"),
                    F.count(F.lit(1)).alias("n"),
                )
                .collect()
            )
        )
        m, u = [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]
        for r in sums:
            m[int(r["standing"])] = float(r["m"])
            u[int(r["standing"])] = float(r["u"])
        model_json = _native.competition_model(model_json, m, u, sum(int(r["n"]) for r in sums))
    schema_json = schema.to_json()
    final = model_json

    def compete(batches: Iterator[Any]) -> Iterator[Any]:
        return _compete_partition(batches, schema_json, final)

    # Checkpointed (computed now): the plans after it stay shallow, which Spark Connect needs (a
    # plan is one nested message there, of limited depth).
    adjusted = _mapped_errors(
        lambda: (
            scored.filter(~at_review)
            .unionByName(standings.mapInArrow(compete, scored.schema))
            .localCheckpoint()
        )
    )
    persisted.append(adjusted)
    # The pairs before the standing weights are no longer read: free them now (at scale the
    # largest table held), not at unpersist().
    scored.unpersist()
    if trained:
        standings.unpersist()
    return model_json, adjusted


def _standing_partition(batches: Iterator[Any]) -> Iterator[Any]:
    """Runs on an executor: each pair's standing (0 alone, 1 ahead, 2 outranked) from its match
    weight and its records' best weights and pair counts, by the core."""
    import pyarrow as pa

    for batch in batches:
        standings = _native.competition_standings(
            batch.column("match_weight").to_pylist(),
            batch.column("_pl_lbest").to_pylist(),
            batch.column("_pl_ln").to_pylist(),
            batch.column("_pl_rbest").to_pylist(),
            batch.column("_pl_rn").to_pylist(),
        )
        kept = [c for c in batch.schema.names if not c.startswith("_pl_")]
        yield pa.RecordBatch.from_arrays(
            [*[batch.column(c) for c in kept], pa.array(standings, pa.int32())],
            names=[*kept, "standing"],
        )


def _compete_partition(batches: Iterator[Any], schema_json: str, model_json: str) -> Iterator[Any]:
    """Runs on an executor: adds each pair's standing weight (the model's competing links) to
    its match weight, by the core, and gives its probability."""
    import pyarrow as pa

    scorer = _native.PairScorer(_native.Schema.from_json(schema_json), model_json)
    for batch in batches:
        adjusted = scorer.compete(
            batch.column("match_weight").to_pylist(), batch.column("standing").to_pylist()
        )
        columns = {c: batch.column(c) for c in batch.schema.names if c != "standing"}
        columns["match_weight"] = pa.array([w for w, _ in adjusted], pa.float64())
        columns["match_probability"] = pa.array([p for _, p in adjusted], pa.float64())
        yield pa.RecordBatch.from_arrays(list(columns.values()), names=list(columns))


def _compared_batches(
    batches: Iterator[Any], columns: list[str], compare: Any, outputs: list[str]
) -> Iterator[Any]:
    """Runs on an executor: gives each batch of candidate pairs (the four pair keys, then the left
    and the right record's ``columns``) to ``compare`` (a ``PairScorer`` method taking the table
    and the two column prefixes), and yields the pair keys, both record ids and the ``outputs``
    columns of its answer."""
    import pyarrow as pa

    keys = ["ls", "lp", "rs", "rp"]
    names = [*keys, *[f"l__{c}" for c in columns], *[f"r__{c}" for c in columns]]
    for batch in batches:
        out = compare(pa.Table.from_batches([batch]).rename_columns(names), "l__", "r__")
        yield pa.RecordBatch.from_arrays(
            [
                *[batch.column(k) for k in keys],
                batch.column(4),
                batch.column(4 + len(columns)),
                *[out.column(o).combine_chunks() for o in outputs],
            ],
            names=[*keys, "left_id", "right_id", *outputs],
        )


def _pattern_partition(
    batches: Iterator[Any], schema_json: str, columns: list[str]
) -> Iterator[Any]:
    """Runs on an executor: compares the candidate pairs of each batch, giving each its training
    key (comparison vector and rule bits)."""
    scorer = _native.PairScorer(_native.Schema.from_json(schema_json))
    return _compared_batches(batches, columns, scorer.patterns, ["pattern"])


def _resolve_components(scored: Any, cluster: Any, n_sources: int, options: _Options) -> Any:
    """The clusters of the CLI's resolution (the guard, or one-to-one) from the connected
    components ``cluster`` (``node``, ``label``) of the pairs at or above the threshold: each
    component's pairs at or above the review threshold go to the core
    (``_native.resolve_component``) in a grouped ``applyInArrow``; every decision the CLI takes
    is inside one component. A component of two records (nearly all of them: one pair) is
    resolved in Spark: the core says whether its one pair links (``_native.links_lone_pair``),
    and its label is then its least record's, as the core would give it; only larger
    components go to Python. Returns ``node`` and ``label`` (the least node of its cluster)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F
    from pyspark.sql.types import IntegerType, LongType, StructField, StructType

    sized = cluster.withColumn("_pl_size", F.count(F.lit(1)).over(Window.partitionBy("label")))
    larger = sized.filter(F.col("_pl_size") > 2)
    lc = larger.select(F.col("node").alias("ln"), F.col("label").alias("comp"))
    rc = larger.select(F.col("node").alias("rn"), F.col("label").alias("rcomp"))
    inside = (
        scored.filter(F.col("match_probability") >= F.lit(options.review_threshold))
        .withColumn("ln", F.struct(F.col("ls").alias("s"), F.col("lp").alias("p")))
        .withColumn("rn", F.struct(F.col("rs").alias("s"), F.col("rp").alias("p")))
        .join(lc, "ln")
        .join(rc, "rn")
        .filter(F.col("comp") == F.col("rcomp"))
        .select(
            F.col("comp.s").alias("cs"),
            F.col("comp.p").alias("cp"),
            "ls",
            "lp",
            "left_id",
            "rs",
            "rp",
            "right_id",
            "match_weight",
        )
    )
    out_schema = StructType(
        [
            StructField("s", IntegerType(), False),
            StructField("p", LongType(), False),
            StructField("gs", IntegerType(), False),
            StructField("gp", LongType(), False),
        ]
    )
    threshold, review = options.threshold, options.review_threshold
    support, one_to_one = options.cluster_support, options.one_to_one

    def resolve(table: Any) -> Any:
        return _resolve_group(table, n_sources, threshold, review, support, one_to_one)

    grouped = inside.groupBy("cs", "cp")
    if hasattr(grouped, "applyInArrow"):
        groups = grouped.applyInArrow(resolve, out_schema)
    else:  # Spark 3.5: the same through pandas.

        def resolve_pandas(frame: Any) -> Any:
            import pyarrow as pa

            return resolve(pa.Table.from_pandas(frame, preserve_index=False)).to_pandas()

        groups = grouped.applyInPandas(resolve_pandas, out_schema)
    resolved = groups.select(
        F.struct(F.col("s"), F.col("p")).alias("node"),
        F.struct(F.col("gs").alias("s"), F.col("gp").alias("p")).alias("label"),
    )
    if _native.links_lone_pair(support, one_to_one):
        # The component's label is its least node: the least record of the cluster of two.
        pairs = sized.filter(F.col("_pl_size") == 2).select("node", "label")
        resolved = resolved.unionByName(pairs)
    return resolved.localCheckpoint()


def _resolve_group(
    table: Any,
    n_sources: int,
    threshold: float,
    review: float,
    support: float,
    one_to_one: bool,
) -> Any:
    """Runs on an executor: resolves one component (its pairs at or above the review
    threshold), giving each of its clustered records the least record of its cluster."""
    import pyarrow as pa

    rows = table.to_pylist()
    index: dict[tuple[int, int], int] = {}
    records: list[tuple[int, int, str]] = []

    def node(s: int, p: int, rid: str) -> int:
        key = (s, p)
        if key not in index:
            index[key] = len(records)
            records.append((s, p, rid))
        return index[key]

    pairs = [
        (
            node(r["ls"], r["lp"], r["left_id"]),
            node(r["rs"], r["rp"], r["right_id"]),
            r["match_weight"],
        )
        for r in rows
    ]
    groups = _native.resolve_component(
        records, pairs, n_sources, threshold, review, support, one_to_one
    )
    out: dict[str, list[int]] = {"s": [], "p": [], "gs": [], "gp": []}
    for (s, p, _), g in zip(records, groups, strict=True):
        if g is None:
            continue
        out["s"].append(s)
        out["p"].append(p)
        out["gs"].append(records[g][0])
        out["gp"].append(records[g][1])
    return pa.table(
        {
            "s": pa.array(out["s"], pa.int32()),
            "p": pa.array(out["p"], pa.int64()),
            "gs": pa.array(out["gs"], pa.int32()),
            "gp": pa.array(out["gp"], pa.int64()),
        }
    )


def _score_partition(
    batches: Iterator[Any], schema_json: str, model_json: str, columns: list[str]
) -> Iterator[Any]:
    """Runs on an executor: compares and scores the candidate pairs of each batch."""
    scorer = _native.PairScorer(_native.Schema.from_json(schema_json), model_json)
    return _compared_batches(batches, columns, scorer.score, ["match_weight", "match_probability"])
