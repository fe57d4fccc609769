"""Appeals domain and API models (pydantic only: the ingest worker imports them, so no FastAPI here)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr, model_validator

from services.appeals.labels import Kind, Priority, Rubric
from services.appeals.lifecycle import Action, AppealStatus
from services.appeals.sla import SlaMode

AppealKind = Kind
AppealRubric = Rubric
AppealPriority = Priority
SourceType = Literal["wall", "board", "photo", "video", "market", "message"]
Actor = Literal["author", "community"]
DeletedBy = Actor
HistoryAction = Literal[
    "created",
    "edited",
    "deleted",
    "restored",
    "answered",
    "classified",
    "reclassified",
    "corrected",
    "status_changed",
    "assigned",
    "replied",
    "reply_sent",
    "reply_failed",
    "reopened",
    "overdue",
    "registered",
    "extended",
]
ReplyState = Literal["queued", "sent", "failed"]
AppealSort = Literal["received_at", "due_at"]


class AppealModel(BaseModel):
    """Base of appeal models: unknown stored attributes are ignored."""

    model_config = ConfigDict(extra="ignore", hide_input_in_errors=True)


class AppealSource(AppealModel):
    """Where the appeal was written in VK: a comment (thread + ``comment_id``) or a message (dialog + number)."""

    type: SourceType
    group_id: int
    owner_id: int | None = None
    post_id: int | None = None
    topic_id: int | None = None
    photo_id: int | None = None
    video_id: int | None = None
    item_id: int | None = None
    comment_id: int | None = None
    peer_id: int | None = None
    conversation_message_id: int | None = None


class AppealAttachment(AppealModel):
    """A photo, video, document, link, ... attached in VK: its type, the ids and link VK shows publicly."""

    type: str
    owner_id: int | None = None
    id: int | None = None
    url: str | None = Field(default=None, description="Where VK shows it: a link's own URL or the vk.com address")


class AppealReply(AppealModel):
    """The community's first answer to the appeal, as VK delivered it."""

    text: str
    sent_at: datetime
    comment_id: int | None = None
    message_id: int | None = None
    conversation_message_id: int | None = None
    admin_author_id: int | None = None
    reply_id: str | None = Field(default=None, description="Our outgoing reply it was (sent from the system)")
    interim: bool = Field(default=False, description="An interim answer (the final one follows)")


class OutgoingReply(AppealModel):
    """A reply written in the system and sent to VK by the sender: ``queued``, then ``sent`` or ``failed``."""

    reply_id: str
    text: str
    interim: bool = False
    state: ReplyState
    error: str | None = Field(default=None, description="Why VK refused it (a permanent error), for the operator")
    error_code: int | None = Field(default=None, description="VK's error code, when VK refused it")
    actor: str | None = None
    queued_at: datetime
    sent_at: datetime | None = None
    comment_id: int | None = None
    message_id: int | None = None


class AppealLabels(AppealModel):
    """What an appeal is: its kind, rubric (appeals only) and priority."""

    kind: AppealKind
    rubric: AppealRubric | None = None
    priority: AppealPriority = "normal"


class AppealTriage(AppealModel):
    """The classifier's own labels of the current text (operators' corrections never change them)."""

    kind: AppealKind
    rubric: AppealRubric | None = None
    priority: AppealPriority = "normal"
    obscene: bool = False
    confidence: float = Field(ge=0, le=1, description="Probability of the kind (times the rubric's for an appeal)")
    classifier_version: str
    at: datetime = Field(description="When the text was classified")


class AnswerQuality(AppealModel):
    """How the community's first answer measures up: ``score`` 0-100 (a real answer, not a formal reply)."""

    score: int = Field(ge=0, le=100)
    flags: list[str] = Field(
        default_factory=list,
        description="Among too_short, no_greeting, no_deadline, no_measures, template_only",
    )


class HistoryEntry(AppealModel):
    """One change of the appeal: its text versions, deletion and restoration in VK, its status and label changes.

    ``classified`` holds the first classification (``new``), ``reclassified`` the model's new labels after an edit,
    ``corrected`` an operator's change (``actor``: the token's subject); ``old``/``new`` are the labels.
    """

    action: HistoryAction
    at: datetime
    text: str | None = None
    by: Actor | None = None
    actor: str | None = None
    old_status: AppealStatus | None = None
    new_status: AppealStatus | None = None
    old: AppealLabels | None = None
    new: AppealLabels | None = None
    classifier_version: str | None = None
    action_taken: Action | None = Field(default=None, description="The lifecycle action of a status change")
    institution_id: str | None = Field(default=None, description="Where an assignment forwarded the appeal")
    reply_id: str | None = None
    interim: bool | None = None
    error: str | None = None
    registration_number: str | None = Field(default=None, description="59-ФЗ: the number it was registered under")
    extension_days: int | None = Field(default=None, description="59-ФЗ: days the answer deadline was extended by")
    reason: str | None = Field(default=None, description="59-ФЗ: why the answer deadline was extended")


class FormalTrack(AppealModel):
    """The appeal's 59-ФЗ track: registered within 3 days of the escalation, answered within 30 days of the
    registration, at most one extension of up to 30 days (the citizen notified)."""

    escalated_at: datetime
    registration_due_at: datetime = Field(description="3 calendar days after the escalation (59-ФЗ ст. 8 ч. 2)")
    registration_number: str | None = None
    registered_at: datetime | None = None
    answer_due_at: datetime | None = Field(
        default=None, description="30 days after the registration, plus the extension (59-ФЗ ст. 12)"
    )
    extension_days: int | None = None
    extension_reason: str | None = None
    extended_at: datetime | None = None


class Appeal(AppealModel):
    """A citizen's comment or message addressed to an official page; every instant in its ``time_zone``."""

    id: str
    page_id: str
    institution_id: str
    region_code: str
    source: AppealSource
    author_id: int
    text: str
    attachments: list[AppealAttachment] = Field(default_factory=list)
    time_zone: str | None = Field(
        default=None, description="IANA zone of its working time and instants: its institution's own, or the region's"
    )
    received_at: datetime = Field(description="VK's time of the comment, with its zone's UTC offset")
    status: AppealStatus = Field(description="The lifecycle status; no_action for every kind but appeal")
    kind: AppealKind = Field(description="The classifier's kind, or the operator's correction")
    rubric: AppealRubric | None = Field(default=None, description="Appeals only: the topic")
    priority: AppealPriority = Field(default="normal", description="urgent: a danger to life or health")
    obscene: bool = Field(default=False, description="The text contains obscene language")
    triage: AppealTriage | None = Field(default=None, description="The classifier's labels of the current text")
    corrected_at: datetime | None = Field(default=None, description="The last operator correction of the labels")
    due_at: datetime | None = Field(default=None, description="First-response deadline (appeals only)")
    final_due_at: datetime | None = Field(default=None, description="Deadline of the final answer after an interim")
    overdue: bool = Field(default=False, description="Open and its running deadline has passed")
    assigned_institution_id: str | None = Field(default=None, description="Where the appeal was forwarded")
    formal: FormalTrack | None = Field(default=None, description="Its 59-ФЗ track, once escalated")
    allowed_actions: list[Action] = Field(default_factory=list, description="Lifecycle actions open from its status")
    first_response_at: datetime | None = None
    answered_at: datetime | None = Field(default=None, description="The final answer")
    closed_at: datetime | None = None
    response_working_minutes: int | None = Field(
        default=None, description="Working minutes (the region's policy) from the appeal to the first response"
    )
    answered_within_sla: bool | None = Field(
        default=None, description="First response by due_at (and the final one by final_due_at); set once answered"
    )
    response_elapsed_minutes: int | None = Field(
        default=None, description="Calendar minutes from the appeal to the first response (not working time)"
    )
    deleted: bool = False
    deleted_by: DeletedBy | None = None
    history: list[HistoryEntry] = Field(default_factory=list)
    reply: AppealReply | None = None
    answer_quality: AnswerQuality | None = Field(default=None, description="Rating of the community's first answer")
    replies: list[OutgoingReply] = Field(default_factory=list, description="Replies sent from the system, oldest first")
    anonymised: bool = Field(default=False, description="Text and author blanked after the retention period")


class AppealFilters(AppealModel):
    """Filters of ``GET /appeals``."""

    region: str | None = Field(default=None, pattern=r"^\d{2}$")
    institution_id: str | None = None
    page_id: str | None = None
    status: AppealStatus | None = None
    kind: AppealKind | None = None
    rubric: AppealRubric | None = None
    priority: AppealPriority | None = None
    overdue: bool | None = None
    assigned_institution: str | None = None
    due_before: date | datetime | None = Field(default=None, description="Open appeals due before this instant")
    sort: AppealSort = "received_at"
    received_from: date | datetime | None = Field(default=None, description="A day starts in the region's zone")
    received_to: date | datetime | None = Field(default=None, description="A day is included up to its end")


class AppealPage(AppealModel):
    """One page of appeals, newest first; pass ``next_cursor`` back as ``cursor`` for the next one."""

    items: list[Appeal]
    next_cursor: str | None = None


class AppealCorrection(AppealModel):
    """An operator's correction of an appeal's labels (at least one field).

    A kind other than ``appeal`` clears the rubric and the priority and sets the status ``no_action``; ``appeal``
    needs a rubric (given here or already on the appeal) and reopens the appeal (``new``, or ``answered`` if the
    community has replied).
    """

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    kind: AppealKind | None = None
    rubric: AppealRubric | None = None
    priority: AppealPriority | None = None


class ClassCounts(AppealModel):
    """Of one class: appeals the model put in it, and operator corrections away from it and into it."""

    assigned: int = 0
    corrected_from: int = 0
    corrected_to: int = 0


class TriageStats(AppealModel):
    """How the classifier does on a region's traffic over whole local days, per class of each label.

    ``assigned`` counts by the day an appeal was received, corrections by the day they were made; rubric and
    priority corrections count between appeals only (a kind correction counts under ``kind``).
    """

    region: str
    first_day: date = Field(serialization_alias="from")
    last_day: date = Field(serialization_alias="to")
    kind: dict[AppealKind, ClassCounts]
    rubric: dict[AppealRubric, ClassCounts]
    priority: dict[AppealPriority, ClassCounts]


class StatusChange(AppealModel):
    """A lifecycle action (``take``, ``close``, ``escalate``, ...), or the status wanted (the action leading there)."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    action: Action | None = None
    status: AppealStatus | None = Field(default=None, description="The status wanted, instead of the action")

    @model_validator(mode="after")
    def _one_of(self) -> Self:
        if (self.action is None) == (self.status is None):
            raise ValueError("give either action or status")
        return self


class Assignment(AppealModel):
    """Forward the appeal to the responsible institution of its region."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    institution_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")


class Registration(AppealModel):
    """The registration of an escalated appeal under 59-ФЗ: its number in the body's records."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    number: str = Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")
    registered_at: datetime | None = Field(
        default=None, description="When it was registered (now when absent): not before the escalation, not ahead"
    )


class Extension(AppealModel):
    """The one extension of a registered 59-ФЗ appeal's answer deadline; ``notice`` goes to the citizen in VK."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    days: int = Field(ge=1, le=30)
    reason: str = Field(min_length=1, max_length=1000)
    notice: str | None = Field(
        default=None,
        min_length=1,
        max_length=4000,
        description="The notice of the extension, sent where the citizen wrote (leave out if notified otherwise)",
    )


class ReplyRequest(AppealModel):
    """An answer to send to VK where the citizen wrote (``interim``: the final answer follows)."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    text: str = Field(min_length=1, max_length=4000)
    interim: bool = False


class ReplyAccepted(AppealModel):
    """The reply is queued for VK; its ``state`` shows on the appeal's ``replies``."""

    appeal_id: str
    reply_id: str
    state: ReplyState


class DeadlinePolicy(AppealModel):
    """A region's answer deadlines and its notification webhook (its secret is write-only)."""

    region_code: str
    mode: SlaMode = "working_hours"
    hours: int = 8
    final_days: int = 7
    extra_days_off: list[date] = Field(default_factory=list, description="The region's own days off")
    webhook_url: str | None = Field(default=None, description="Where overdue and urgent notices are POSTed")
    webhook_secret_set: bool = False
    updated_at: datetime | None = None
    updated_by: str | None = None


class DeadlinePolicyUpdate(AppealModel):
    """The whole policy of a region; ``webhook_secret`` is needed with a new ``webhook_url`` (then kept, unshown)."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    mode: SlaMode = "working_hours"
    hours: int = Field(default=8, ge=1, le=720)
    final_days: int = Field(default=7, ge=1, le=60)
    extra_days_off: list[date] = Field(default_factory=list, max_length=100)
    webhook_url: HttpUrl | None = None
    webhook_secret: SecretStr | None = Field(default=None, min_length=16, max_length=256)


class Deadline(AppealModel):
    """The first-response deadline of a message received at the given instant, under the region's policy."""

    due_at: datetime
