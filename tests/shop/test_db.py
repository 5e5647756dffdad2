"""shop.db: hand-written reads and inserts that follow the models, and WriteBatch."""

import pytest
from django.db import IntegrityError, NotSupportedError, connection, transaction

from shop.db import WriteBatch, durability_deferred, insert_sql, instance_from_row, select_columns
from shop.events.models import HandlerRun, OutboxEvent


@pytest.mark.django_db
def test_instance_from_row_applies_the_orms_converters():
    event = OutboxEvent.objects.create(name="row", payload={"a": [1, 2]})
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {select_columns(OutboxEvent, 'e')} FROM shop_events_outboxevent e")
        (row,) = cursor.fetchall()
    read = instance_from_row(OutboxEvent, row)
    assert read.pk == event.pk and read.payload == {"a": [1, 2]} and read.created_at == event.created_at
    assert read._state.adding is False


@pytest.mark.django_db
def test_insert_sql_writes_what_save_would():
    event = OutboxEvent(name="sql", payload={"k": "v"})
    sql, params = insert_sql([event])
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    stored = OutboxEvent.objects.get(pk=event.pk)
    assert (stored.name, stored.payload, stored.created_at) == ("sql", {"k": "v"}, event.created_at)


@pytest.mark.django_db
@pytest.mark.postgres
def test_batch_sends_every_write_in_one_statement(django_assert_num_queries):
    """Rows of several models, one referring to another of the same batch, and an UPDATE: one statement."""
    existing = OutboxEvent.objects.create(name="old", payload={})
    event = OutboxEvent(name="new", payload={"n": 1})
    runs = [HandlerRun(event=event, handler="a"), HandlerRun(event=event, handler="b")]
    batch = WriteBatch()
    batch.insert([event])
    batch.insert(runs)
    batch.write("UPDATE shop_events_outboxevent SET attempts = %s WHERE id = %s", [3, existing.pk])
    assert not HandlerRun.objects.exists()  # nothing written before the flush
    with django_assert_num_queries(1):
        batch.flush()
    assert [run.pk for run in runs] == list(HandlerRun.objects.order_by("pk").values_list("pk", flat=True))
    assert all(run.pk is not None and run._state.adding is False for run in runs)
    assert set(HandlerRun.objects.values_list("event_id", "handler")) == {(event.pk, "a"), (event.pk, "b")}
    assert OutboxEvent.objects.get(pk=existing.pk).attempts == 3
    with django_assert_num_queries(0):
        batch.flush()  # flushed writes are gone


@pytest.mark.django_db
@pytest.mark.postgres
def test_batch_reads_computed_values_back():
    event = OutboxEvent(name="placeholder", payload={})
    batch = WriteBatch()
    batch.insert([event], name=("upper(%s)", "computed"))
    batch.flush()
    assert event.name == "COMPUTED" == OutboxEvent.objects.get(pk=event.pk).name


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_batch_is_all_or_nothing():
    event = OutboxEvent.objects.create(name="once", payload={})
    HandlerRun.objects.create(event=event, handler="h")
    batch = WriteBatch()
    batch.insert([OutboxEvent(name="lost", payload={})])
    batch.insert([HandlerRun(event=event, handler="h")])  # breaks handler_run_once
    with pytest.raises(IntegrityError), transaction.atomic():
        batch.flush()
    assert not OutboxEvent.objects.filter(name="lost").exists()
    assert HandlerRun.objects.count() == 1


@pytest.mark.django_db
def test_batch_elsewhere_saves_through_the_orm(monkeypatch):
    """Off PostgreSQL (SQLite) `insert` saves at flush through the ORM; hand-written writes are refused."""
    monkeypatch.setattr(connection, "vendor", "sqlite")  # the ORM path runs on any database
    event = OutboxEvent(name="orm", payload={})
    runs = [HandlerRun(event=event, handler="a"), HandlerRun(event=event, handler="b")]
    batch = WriteBatch()
    batch.insert([event])
    batch.insert(runs)
    assert not OutboxEvent.objects.exists()
    batch.flush()
    assert OutboxEvent.objects.get().name == "orm"
    assert sorted(HandlerRun.objects.values_list("handler", flat=True)) == ["a", "b"]
    with pytest.raises(NotSupportedError):
        batch.write("UPDATE shop_events_outboxevent SET attempts = 1", [])
    with pytest.raises(NotSupportedError):
        batch.insert([OutboxEvent(name="x", payload={})], name=("upper(%s)", "x"))


def _synchronous_commit_of_a_batched_transaction() -> str:
    with transaction.atomic():
        batch = WriteBatch()
        batch.insert([OutboxEvent(name="durability", payload={})])
        batch.flush()
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_deferred_durability_relaxes_only_batched_transactions_inside_the_block():
    assert _synchronous_commit_of_a_batched_transaction() == "on"
    with durability_deferred():
        assert _synchronous_commit_of_a_batched_transaction() == "off"
    assert _synchronous_commit_of_a_batched_transaction() == "on"
    with connection.cursor() as cursor:  # transaction-local: the session keeps waiting for the flush
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"
    assert OutboxEvent.objects.filter(name="durability").count() == 3
