"""SQS patches (moto 5.2.5): standard queues whose operations cost the same however many messages wait.

What moto 5.2.5 does and why it is patched: a queue keeps its messages in one list and answers by walking it.

* Every ``SendMessage`` reads ``Queue.attributes`` (for ``ContentBasedDeduplication``), which counts visible,
  delayed and in-flight messages by walking the list three times, reading the clock for each message.
* ``ReceiveMessage`` first builds the list of every visible message, then checks each message it returns against
  the retention period through ``get_queue_attributes`` - two more ``attributes``, six more walks, per message.
* ``DeleteMessage`` and ``ChangeMessageVisibility`` find the receipt handle by walking every message and every
  handle it ever had; ``DeleteMessage`` then rebuilds the list.
* ``GetQueueAttributes`` builds ``attributes`` twice per requested name.

So each call costs O(queue depth): once consumers fall behind, every acknowledgement of the webhook (one
SendMessage) gets slower, which makes them fall further behind.

Here a standard queue keeps its messages in a ``MessageStore``: send order in a dict, a receipt-handle index, and
the sets of messages in flight or delayed (``Unavailable``), which are re-checked only when the earliest of their
moments has passed, so counting is free in between. Receiving walks from the oldest message and stops after a
batch, reading the retention period once; deleting and changing visibility are lookups. What each call returns is
what moto returns. FIFO queues keep moto's code. Messages joining or leaving a store are reported to
``observer.current()`` (the local stack's journal).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Iterator
from copy import deepcopy
from typing import Any

from moto.core.utils import unix_time, unix_time_millis
from moto.sqs.exceptions import InvalidParameterValue, ReceiptHandleIsInvalid
from moto.sqs.models import Message, Queue, SQSBackend, _filter_message_attributes, sqs_backends

from tooling.local.patches import observer, replace

MAX_VISIBILITY_SECONDS = 43200  # moto's check: a message's total visibility timeout


class Unavailable:
    """Messages that are unavailable until a moment of their own: in flight until ``visible_at``, delayed until
    ``delayed_until``. Members whose moment passed are dropped when the earliest moment passes, so counting costs
    nothing between two such moments."""

    def __init__(self, is_unavailable: Callable[[Message], bool], until: Callable[[Message], float]) -> None:
        self._is_unavailable = is_unavailable
        self._until = until
        self._members: set[Message] = set()
        self._next_change = math.inf

    def add(self, message: Message) -> None:
        """The message's moment changed (or it may be unavailable): track it."""
        self._members.add(message)
        self._next_change = min(self._next_change, self._until(message))

    def discard(self, message: Message) -> None:
        self._members.discard(message)

    def members(self) -> set[Message]:
        """The messages unavailable now."""
        if unix_time_millis() >= self._next_change:
            self._members = {message for message in self._members if self._is_unavailable(message)}
            self._next_change = min((self._until(message) for message in self._members), default=math.inf)
        return self._members


class MessageStore:
    """A standard queue's messages in send order, with indexes by receipt handle and by unavailability."""

    def __init__(self, queue_arn: str, messages: Iterable[Message]) -> None:
        self.queue_arn = queue_arn
        self._order: dict[Message, None] = {}
        self.by_handle: dict[str, Message] = {}
        self.in_flight = Unavailable(lambda message: not message.visible, lambda message: message.visible_at)
        self.delayed = Unavailable(lambda message: message.delayed, lambda message: message.delayed_until)
        for message in messages:
            self._index(message)

    def _index(self, message: Message) -> None:
        self._order[message] = None
        for handle in message.all_receipt_handles:
            if handle:
                self.by_handle[handle] = message
        if not message.visible:
            self.in_flight.add(message)
        if message.delayed:
            self.delayed.add(message)

    def __iter__(self) -> Iterator[Message]:
        return iter(self._order)

    def __len__(self) -> int:
        return len(self._order)

    def append(self, message: Message) -> None:
        """A message joins the queue (moto's ``Queue.add_message`` calls this)."""
        self._index(message)
        listener = observer.current()
        if listener is not None:
            listener.message_added(self.queue_arn, message.id, message.body, message.message_attributes)

    def remove(self, message: Message) -> None:
        """A message leaves the queue."""
        del self._order[message]
        for handle in message.all_receipt_handles:
            self.by_handle.pop(handle or "", None)
        self.in_flight.discard(message)
        self.delayed.discard(message)
        listener = observer.current()
        if listener is not None:
            listener.message_removed(self.queue_arn, message.id)

    def received(self, message: Message) -> None:
        """A message was received: it has a new receipt handle and is in flight."""
        if message.receipt_handle:
            self.by_handle[message.receipt_handle] = message
        self.in_flight.add(message)

    def available(self) -> int:
        """Messages a receive would return now (visible and not delayed)."""
        return len(self._order) - len(self.in_flight.members() | self.delayed.members())


def store(queue: Queue) -> MessageStore:
    """The queue's store, made from its message list the first time (call with the queue's lock held)."""
    messages = queue._messages
    if isinstance(messages, MessageStore):
        return messages
    created = MessageStore(queue.queue_arn, messages)
    queue._messages = created  # type: ignore[assignment]  # moto declares a list; the store has what moto uses of it
    return created


def _standard(method: Callable[..., Any], patched: Callable[..., Any]) -> Callable[..., Any]:
    """``patched`` for standard queues, moto's ``method`` for FIFO queues (``self`` is a ``Queue``)."""

    @functools.wraps(method)
    def dispatch(self: Queue, *args: Any, **kwargs: Any) -> Any:
        return method(self, *args, **kwargs) if self.fifo_queue else patched(self, *args, **kwargs)

    return dispatch


def _standard_backend(method: Callable[..., Any], patched: Callable[..., Any]) -> Callable[..., Any]:
    """``patched`` for standard queues, moto's ``method`` for FIFO queues (``self`` is an ``SQSBackend``)."""

    @functools.wraps(method)
    def dispatch(self: SQSBackend, queue_name: str, *args: Any, **kwargs: Any) -> Any:
        queue = self.get_queue(queue_name)
        return (method if queue.fifo_queue else patched)(self, queue_name, *args, **kwargs)

    return dispatch


# ------------------------------------------------------------ Queue
def _counted(original: property, count: Callable[[MessageStore], int]) -> property:
    fifo_count = original.fget
    assert fifo_count is not None, "moto's count properties have getters"

    def read(self: Queue) -> int:
        if self.fifo_queue:
            value: int = fifo_count(self)
            return value
        with self._messages_lock:
            return count(store(self))

    return property(read)


def _add_message(original: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(original)
    def add_message(self: Queue, message: Message) -> None:
        if not self.fifo_queue:
            with self._messages_lock:
                store(self)  # moto appends under the lock: to the store, which reports it
        original(self, message)

    return add_message


def _delete_message(self: Queue, receipt_handle: str) -> None:
    with self._messages_lock:
        if receipt_handle in self.deleted_messages:
            return  # deleting again is fine, as in moto
        messages = store(self)
        message = messages.by_handle.get(receipt_handle)
        if message is None:
            raise ReceiptHandleIsInvalid()
        self.pending_messages.discard(message)
        self.deleted_messages.update(handle for handle in message.all_receipt_handles if handle)
        messages.remove(message)


def _wait_for_messages(self: Queue, timeout: int) -> None:
    with self._messages_lock:
        self._messages_lock.wait_for(lambda: store(self).available() > 0, timeout=timeout)


# ------------------------------------------------------------ SQSBackend
def _receive_message(
    self: SQSBackend,
    queue_name: str,
    count: int,
    wait_seconds_timeout: int,
    visibility_timeout: int,
    message_attribute_names: list[str] | None = None,
) -> list[Message]:
    """moto 5.2.5's ``receive_message`` for a standard queue, walking from the oldest message to a full batch."""
    queue = self.get_queue(queue_name)
    policy = queue.redrive_policy
    dead_letter_queue = queue.dead_letter_queue if policy else None
    max_receives = policy["maxReceiveCount"] if policy else 0
    retention: int = getattr(queue, "message_retention_period")  # noqa: B009 - set from the attributes, untyped
    polling_end = unix_time() + wait_seconds_timeout
    while True:
        result: list[Message] = []
        dead_letters: list[Message] = []
        with queue._messages_lock:
            messages = store(queue)
            for message in messages:
                if not message.visible or message.delayed:
                    continue
                queue.pending_messages.discard(message)  # visible again: its consumer timed out
                if dead_letter_queue is not None and message.approximate_receive_count >= max_receives:
                    dead_letters.append(message)
                    continue
                queue.pending_messages.add(message)
                message.mark_received(visibility_timeout=visibility_timeout)
                messages.received(message)
                copy = deepcopy(message)  # returned with filtered attributes; the stored one keeps them all
                _filter_message_attributes(copy, message_attribute_names or [])
                if retention + (message.sent_timestamp or 0) / 1000 <= unix_time():
                    break  # moto's retention check, without building the queue's attributes twice per message
                result.append(copy)
                if len(result) >= count:
                    break
            for message in dead_letters:
                messages.remove(message)
        if dead_letter_queue is not None:
            for message in dead_letters:
                dead_letter_queue.add_message(message)
        if result or not wait_seconds_timeout or unix_time() > polling_end:
            return result
        queue.wait_for_messages(1)


def _change_message_visibility(self: SQSBackend, queue_name: str, receipt_handle: str, visibility_timeout: int) -> None:
    queue = self.get_queue(queue_name)
    with queue._messages_lock:
        messages = store(queue)
        message = messages.by_handle.get(receipt_handle)
        if message is None:
            raise ReceiptHandleIsInvalid
        visible_at = unix_time_millis() + int(visibility_timeout) * 1000
        if visible_at - (message.sent_timestamp or 0) > MAX_VISIBILITY_SECONDS * 1000:
            raise InvalidParameterValue(
                f"Value {visibility_timeout} for parameter VisibilityTimeout is invalid. Reason: Total "
                f"VisibilityTimeout for the message is beyond the limit [{MAX_VISIBILITY_SECONDS} seconds]"
            )
        message.change_visibility(visibility_timeout)
        messages.in_flight.add(message)
        if message.visible:
            queue.pending_messages.discard(message)


def _purge_queue(original: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(original)
    def purge_queue(self: SQSBackend, queue_name: str) -> None:
        queue = self.get_queue(queue_name)
        if queue.fifo_queue:
            original(self, queue_name)
            return
        with queue._messages_lock:
            messages = store(queue)
            original(self, queue_name)  # replaces the store with an empty list
            for message in list(messages):
                messages.remove(message)

    return purge_queue


# ------------------------------------------------------------ in-process access for the local stack's persistence
def queued_messages(account_id: str, region: str, queue_name: str) -> list[dict[str, Any]]:
    """Every message of a standard queue (in flight too), oldest first: ``Id``, ``Body``, ``MessageAttributes``."""
    queue: Queue = sqs_backends[account_id][region].get_queue(queue_name)
    with queue._messages_lock:
        return [
            {"Id": message.id, "Body": message.body, "MessageAttributes": dict(message.message_attributes)}
            for message in store(queue)
        ]


def install() -> None:
    """Replace moto's methods with the ones above."""
    counts: list[tuple[str, Callable[[MessageStore], int]]] = [
        ("approximate_number_of_messages", MessageStore.available),
        ("approximate_number_of_messages_not_visible", lambda messages: len(messages.in_flight.members())),
        ("approximate_number_of_messages_delayed", lambda messages: len(messages.delayed.members())),
    ]
    for name, count in counts:
        replace(Queue, name, _counted(getattr(Queue, name), count))
    replace(Queue, "add_message", _add_message(Queue.add_message))
    replace(Queue, "delete_message", _standard(Queue.delete_message, _delete_message))
    replace(Queue, "wait_for_messages", _standard(Queue.wait_for_messages, _wait_for_messages))
    replace(SQSBackend, "receive_message", _standard_backend(SQSBackend.receive_message, _receive_message))
    replace(
        SQSBackend,
        "change_message_visibility",
        _standard_backend(SQSBackend.change_message_visibility, _change_message_visibility),
    )
    replace(SQSBackend, "purge_queue", _purge_queue(SQSBackend.purge_queue))
