"""Hand-written SQL for the few hot paths where building a query through the ORM costs more CPU than
running it (checkout runs each of these once per order).

With these helpers the models stay the source of columns and value conversion: column lists come from
their concrete fields and values go through the same preparation (`get_db_prep_save`, `pre_save`) and
converters (`from_db_value`) the ORM uses, so reading or inserting whole rows follows schema changes
without editing SQL. Each such path keeps an ORM branch for SQLite, exercised by the same tests.
Everywhere else, use the ORM.
"""

import contextlib
import functools
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from typing import Any

from django.db import DEFAULT_DB_ALIAS, NotSupportedError, connection, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper

# A FROM item that makes the statement's own transaction commit without waiting for the WAL flush:
# set_config(…, true) is transaction-local, so in autocommit it affects that statement alone; inside
# an atomic block it relaxes everything the transaction writes, which only `durability_deferred`
# asks for. Each user says why losing its last few hundred milliseconds of writes in a database crash
# is harmless.
ASYNC_COMMIT = "(SELECT set_config('synchronous_commit', 'off', true))"

_durability_deferred: ContextVar[bool] = ContextVar("shop_durability_deferred", default=False)


@contextlib.contextmanager
def durability_deferred() -> Iterator[None]:
    """Within this block, transactions that write through a `WriteBatch` commit without a WAL flush wait.

    For a caller that commits synchronously before anyone is told the outcome (the idempotency record of
    a request: the client sees the response only after it). PostgreSQL flushes the WAL in order, so that
    one flush makes every earlier commit durable as well; a crash before it loses them all together,
    with nothing acknowledged. Checkout's transaction then releases its stock locks without waiting for
    the disk, and the request waits for one flush instead of two.
    """
    token = _durability_deferred.set(True)
    try:
        yield
    finally:
        _durability_deferred.reset(token)


def loaded_fields(model: type[models.Model], *, defer: Sequence[str] = ()) -> list[models.Field]:
    """The concrete fields of `model` a hand-written SELECT reads: all but the `defer`red ones."""
    return [f for f in model._meta.concrete_fields if f.attname not in defer]


def select_columns(model: type[models.Model], alias: str, *, defer: Sequence[str] = ()) -> str:
    """`alias.col1, alias.col2, …` of `loaded_fields`, in `instance_from_row`'s order."""
    return _select_columns(model, alias, tuple(defer), connections[DEFAULT_DB_ALIAS].vendor)


@functools.lru_cache(maxsize=128)
def _select_columns(model: type[models.Model], alias: str, defer: tuple[str, ...], vendor: str) -> str:
    # Built once per model and alias: the hot paths read the same columns on every request.
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    return ", ".join(f"{alias}.{quote(f.column)}" for f in loaded_fields(model, defer=defer))


@functools.lru_cache(maxsize=128)
def _row_reader(
    model: type[models.Model], defer: tuple[str, ...], db: BaseDatabaseWrapper
) -> tuple[list[str], list[tuple[Any, list[Callable]]]]:
    # The attnames and, per column, the converters the ORM's compiler would apply: found once per model
    # and connection rather than for every row (half the cost of reading a row into an instance).
    fields = loaded_fields(model, defer=defer)
    table = model._meta.db_table
    converters = []
    for field in fields:
        expression = field.get_col(table)
        converters.append((expression, db.ops.get_db_converters(expression) + field.get_db_converters(db)))
    return [f.attname for f in fields], converters


def instance_from_row(
    model: type[models.Model], row: Sequence[Any], start: int = 0, *, defer: Sequence[str] = ()
) -> models.Model:
    """A saved instance of `model` from `row[start:]` laid out as `select_columns(model, …, defer=…)`.

    Values go through the converters the ORM's compiler applies (JSON text → dict, SQLite decimals…);
    deferred fields load on access, as with `QuerySet.defer()`.
    """
    db = connections[DEFAULT_DB_ALIAS]  # this thread's connection: converters may be bound to it
    attnames, converters = _row_reader(model, tuple(defer), db)
    values = list(row[start : start + len(attnames)])
    for i, (expression, convert_all) in enumerate(converters):
        for convert in convert_all:
            values[i] = convert(values[i], expression, db)
    return model.from_db(db.alias, attnames, values)


@functools.lru_cache(maxsize=128)
def _insert_statement(
    model: type[models.Model], computed: tuple[tuple[str, str], ...], db: BaseDatabaseWrapper
) -> tuple[list[models.Field], str, str]:
    # The fields an INSERT writes, its `INSERT INTO table (columns) VALUES` head and one row's
    # placeholders: the same for every insert of a model, so built once.
    sql_of = dict(computed)
    fields = [f for f in model._meta.concrete_fields if not isinstance(f, models.AutoField)]
    quote = db.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    row = "(" + ", ".join(sql_of.get(f.attname, "%s") for f in fields) + ")"
    return fields, f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ", row


def insert_sql(objs: Sequence[models.Model], **computed: tuple[str, Any]) -> tuple[str, list[Any]]:
    """`INSERT INTO table (columns) VALUES (…), …` for unsaved `objs`, with the values the ORM would write.

    Every concrete field but an auto-increment key, each prepared as `save()` prepares it (auto_now
    stamps, JSON, decimals). `computed` maps a field's attname to (SQL taking one parameter, that
    parameter), e.g. an order number drawn from its sequence.
    """
    db = connections[DEFAULT_DB_ALIAS]  # the wrapper, not the proxy: fields consult it for every value
    fields, head, row = _insert_statement(
        type(objs[0]), tuple((name, sql) for name, (sql, _) in computed.items()), db
    )
    params: list[Any] = []
    for obj in objs:
        for field in fields:
            if field.attname in computed:
                params.append(computed[field.attname][1])
            else:
                params.append(field.get_db_prep_save(field.pre_save(obj, True), db))
    return head + ", ".join([row] * len(objs)), params


class WriteBatch:
    """Writes that several services make in one transaction, sent together by `flush()`.

    A service given a batch adds its writes instead of running them; whoever owns the transaction
    flushes once. On PostgreSQL the writes become the data-modifying CTEs of one statement: one round
    trip instead of one per write. They run against one snapshot, so none may read another's rows;
    CHECK and unique constraints apply per row as usual and foreign keys at the end of the statement.
    Under `durability_deferred` the statement also lets its transaction commit without a flush wait.
    Elsewhere `insert` saves through the ORM at flush, and `write` (hand-written SQL) is PostgreSQL's only.
    """

    def __init__(self) -> None:
        # (statement, its parameters, [(RETURNING column, the objects, the attname its values go to)])
        self._writes: list[tuple[str, list[Any], list[tuple[str, list[models.Model], str]]]] = []
        self._orm_inserts: list[list[models.Model]] = []
        self._saved: list[models.Model] = []

    def write(self, sql: str, params: Sequence[Any]) -> None:
        """Add one data-modifying statement (`%s` placeholders, no RETURNING)."""
        if connection.vendor != "postgresql":
            raise NotSupportedError("WriteBatch.write() is PostgreSQL's only; keep an ORM branch.")
        self._writes.append((sql, list(params), []))

    def insert(self, objs: Sequence[models.Model], **computed: tuple[str, Any]) -> None:
        """Add rows for unsaved `objs` (all of one model), as `insert_sql` writes them.

        Once flushed they are saved instances, with an auto-increment key and the `computed` fields
        read back from the database.
        """
        objs = list(objs)
        if not objs:
            return
        if connection.vendor != "postgresql":
            if computed:
                raise NotSupportedError("Computed insert values are PostgreSQL's only.")
            self._orm_inserts.append(objs)
            return
        meta = objs[0]._meta
        read_back = [meta.get_field(name) for name in computed]
        if isinstance(meta.pk, models.AutoField):
            read_back.insert(0, meta.pk)
        self._writes.append((*insert_sql(objs, **computed), [(f.column, objs, f.attname) for f in read_back]))
        self._saved += objs

    def flush(self) -> None:
        """Run every write added so far (one statement on PostgreSQL) and empty the batch."""
        writes, self._writes = self._writes, []
        orm_inserts, self._orm_inserts = self._orm_inserts, []
        saved, self._saved = self._saved, []
        for objs in orm_inserts:
            if len(objs) == 1:
                objs[0].save(force_insert=True)
            else:
                type(objs[0]).objects.bulk_create(objs)
        if not writes:
            return
        quote = connection.ops.quote_name
        ctes, params, arrays, targets = [], [], [], []
        for i, (sql, write_params, returning) in enumerate(writes):
            columns = ", ".join(quote(column) for column, _, _ in returning)
            ctes.append(f"w{i} AS ({sql}{f' RETURNING {columns}' if returning else ''})")
            params += write_params
            # A CTE keeps its rows in RETURNING order, which is VALUES order (bulk_create relies on the
            # same), so one ARRAY per column lines up; each keeps its column's type.
            for column, objs, attname in returning:
                arrays.append(f"ARRAY(SELECT {quote(column)} FROM w{i})")
                targets.append((objs, attname))
        relaxed = f" FROM {ASYNC_COMMIT} AS _async" if _durability_deferred.get() else ""
        with connection.cursor() as cursor:
            cursor.execute(f"WITH {', '.join(ctes)} SELECT {', '.join(arrays) or 'NULL'}{relaxed}", params)
            row = cursor.fetchone()
        for (objs, attname), values in zip(targets, row if targets else (), strict=True):
            for obj, value in zip(objs, values, strict=True):
                setattr(obj, attname, value)
        for obj in saved:
            obj._state.adding, obj._state.db = False, connection.alias
