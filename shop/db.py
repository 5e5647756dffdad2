"""Hand-written SQL for the few hot paths where building a query through the ORM costs more CPU than
running it (checkout runs each of these once per order).

With these helpers the models stay the source of columns and value conversion: column lists come from
their concrete fields and values go through the same preparation (`get_db_prep_save`, `pre_save`) and
converters (`from_db_value`) the ORM uses, so reading or inserting whole rows follows schema changes
without editing SQL. Each such path keeps an ORM branch for SQLite, exercised by the same tests.
Everywhere else, use the ORM.
"""

import functools
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper

# A FROM item that makes the statement's own transaction commit without waiting for the WAL flush:
# set_config(…, true) is transaction-local, so it is only for a statement run in autocommit (inside a
# caller's atomic block it would relax the durability of everything that transaction writes). Each
# user says why losing its last few hundred milliseconds of writes in a database crash is harmless.
ASYNC_COMMIT = "(SELECT set_config('synchronous_commit', 'off', true))"


def loaded_fields(model: type[models.Model], *, defer: Sequence[str] = ()) -> list[models.Field]:
    """The concrete fields of `model` a hand-written SELECT reads: all but the `defer`red ones."""
    return [f for f in model._meta.concrete_fields if f.attname not in defer]


def select_columns(model: type[models.Model], alias: str, *, defer: Sequence[str] = ()) -> str:
    """`alias.col1, alias.col2, …` of `loaded_fields`, in `instance_from_row`'s order."""
    quote = connection.ops.quote_name
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
    db = connections[connection.alias]  # this thread's connection: converters may be bound to it
    attnames, converters = _row_reader(model, tuple(defer), db)
    values = list(row[start : start + len(attnames)])
    for i, (expression, convert_all) in enumerate(converters):
        for convert in convert_all:
            values[i] = convert(values[i], expression, db)
    return model.from_db(db.alias, attnames, values)


def insert_sql(objs: Sequence[models.Model], **computed: tuple[str, Any]) -> tuple[str, list[Any]]:
    """`INSERT INTO table (columns) VALUES (…), …` for unsaved `objs`, with the values the ORM would write.

    Every concrete field but an auto-increment key, each prepared as `save()` prepares it (auto_now
    stamps, JSON, decimals). `computed` maps a field's attname to (SQL taking one parameter, that
    parameter), e.g. an order number drawn from its sequence.
    """
    meta = objs[0]._meta
    fields = [f for f in meta.concrete_fields if not isinstance(f, models.AutoField)]
    quote = connection.ops.quote_name
    row = "(" + ", ".join(computed[f.attname][0] if f.attname in computed else "%s" for f in fields) + ")"
    params: list[Any] = []
    for obj in objs:
        for field in fields:
            if field.attname in computed:
                params.append(computed[field.attname][1])
            else:
                params.append(field.get_db_prep_save(field.pre_save(obj, True), connection))
    columns = ", ".join(quote(f.column) for f in fields)
    return f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES {', '.join([row] * len(objs))}", params
