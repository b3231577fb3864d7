"""Access follows purchases. After any change to a learner's orders, subscriptions or seats,
`access_sync` recomputes, for the courses and plans concerned, the live payment source that
gives the latest end (a paid order, a live subscription, a held seat) and makes the learner's
enrollment say so, through the progress services that grant access (which record their own
events):

- a live source and no enrollment: the enrollment is created with that source and end;
- an enrollment an admin gave that already lasts as long: it stands, untouched;
- otherwise the enrollment takes the source's end and source (so the Access tab says where the
  access comes from);
- no live source left and the enrollment came from a payment: the access ends at `at` (now,
  or the moment a subscription ended). An admin's own enrollment is never ended here.

Working from state rather than from the change means running it twice changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.utils import timezone

from payments.models import Order, OrderLine, Product, SeatAssignment, Subscription
from progress.models import (
    AccessSource,
    Course,
    Enrollment,
    LearningPlan,
    LearningPlanCourse,
    PlanEnrollment,
)
from progress.services import (
    enrollment_create,
    enrollment_set_expiry,
    plan_enrollment_create,
    plan_enrollment_set_expiry,
)

if TYPE_CHECKING:
    from users.models import User

PAYMENT_SOURCES = (AccessSource.PURCHASE, AccessSource.SUBSCRIPTION, AccessSource.SEAT)


@dataclass(frozen=True)
class Grant:
    source: AccessSource
    label: str
    ends_at: datetime | None  # None: no end

    def outlasts(self, other: Grant | None) -> bool:
        if other is None:
            return True
        if self.ends_at is None:
            return other.ends_at is not None
        return other.ends_at is not None and self.ends_at > other.ends_at


@dataclass
class Targets:
    course_ids: set[int]
    plan_ids: set[int]


def product_targets(products: list[Product]) -> Targets:
    """The courses and plans a product opens (a plan opens its courses too). Two queries at
    most for any number of products."""
    courses: set[int] = set()
    plans: set[int] = set()
    subscriptions: list[int] = []
    for product in products:
        if product.kind == Product.Kind.COURSE and product.course_id:
            courses.add(product.course_id)
        elif product.kind == Product.Kind.PLAN and product.plan_id:
            plans.add(product.plan_id)
        elif product.kind == Product.Kind.SUBSCRIPTION:
            subscriptions.append(product.pk)
    if plans:
        courses |= set(
            LearningPlanCourse.objects.filter(plan_id__in=plans).values_list("course_id", flat=True)
        )
    if subscriptions:
        courses |= set(
            Product.catalogue.through.objects.filter(product_id__in=subscriptions).values_list(
                "course_id", flat=True
            )
        )
    return Targets(course_ids=courses, plan_ids=plans)


def _order_end(order: Order, product: Product) -> datetime | None:
    if product.access_days is None or order.paid_at is None:
        return None
    return order.paid_at + timedelta(days=product.access_days)


def _live_grants(*, user: User, now: datetime) -> tuple[dict[int, Grant], dict[int, Grant]]:
    """The best live payment grant per course and per plan for the user."""
    per_course: dict[int, Grant] = {}
    per_plan: dict[int, Grant] = {}

    def offer(products: list[Product], grant: Grant) -> None:
        if grant.ends_at is not None and grant.ends_at <= now:
            return
        targets = product_targets(products)
        for course_id in targets.course_ids:
            if grant.outlasts(per_course.get(course_id)):
                per_course[course_id] = grant
        for plan_id in targets.plan_ids:
            if grant.outlasts(per_plan.get(plan_id)):
                per_plan[plan_id] = grant

    lines = (
        OrderLine.objects.filter(
            order__user=user,
            order__status=Order.Status.PAID,
            order__grants_access=True,
            order__access_ended_at__isnull=True,
            product__kind__in=[Product.Kind.COURSE, Product.Kind.PLAN],
        )
        .select_related("order", "product")
        .order_by("order_id", "id")
    )
    for line in lines:
        offer(
            [line.product],
            Grant(
                AccessSource.PURCHASE,
                f"Order #{line.order_id} · {line.product.name}",
                _order_end(line.order, line.product),
            ),
        )
    for subscription in Subscription.objects.filter(
        user=user, status__in=[Subscription.Status.ACTIVE, Subscription.Status.PAST_DUE]
    ).select_related("product"):
        offer(
            [subscription.product],
            Grant(
                AccessSource.SUBSCRIPTION,
                f"{subscription.product.name} ({subscription.product.get_interval_display()})",
                subscription.current_period_end,
            ),
        )
    for seat in SeatAssignment.objects.filter(user=user, released_at__isnull=True).select_related(
        "licence__product", "licence__organisation"
    ):
        licence = seat.licence
        owner = licence.organisation.name if licence.organisation else f"licence #{licence.pk}"
        offer(
            [licence.product],
            Grant(
                AccessSource.SEAT,
                f"Seat · {licence.product.name} · {owner}",
                licence.access_ends_at,
            ),
        )
    return per_course, per_plan


def _apply(
    *,
    enrollment: Enrollment | PlanEnrollment | None,
    grant: Grant | None,
    create: object,
    set_expiry: object,
    actor: User | None,
    at: datetime,
) -> None:
    manual = actor is not None
    if grant is not None:
        if enrollment is None:
            create(  # type: ignore[operator]
                expires_at=grant.ends_at, source=grant.source, source_label=grant.label
            )
            return
        if enrollment.source == AccessSource.ADMIN and not grant.outlasts(
            Grant(AccessSource.ADMIN, "", enrollment.expires_at)
        ):
            return  # an admin's access that lasts as long (or longer) stands
        set_expiry(  # type: ignore[operator]
            enrollment=enrollment,
            expires_at=grant.ends_at,
            actor=actor,
            source=grant.source,
            source_label=grant.label,
            manual=manual,
        )
        return
    if enrollment is None or enrollment.source not in PAYMENT_SOURCES:
        return
    if enrollment.expires_at is not None and enrollment.expires_at <= at:
        return
    set_expiry(  # type: ignore[operator]
        enrollment=enrollment, expires_at=at, actor=actor, manual=manual
    )


def access_sync(
    *, user: User, products: list[Product], actor: User | None, at: datetime | None = None
) -> None:
    """Make the user's access to what `products` open match their live payment grants. Call
    inside the service's transaction, holding the user's payments lock."""
    now = timezone.now()
    at = at or now
    targets = product_targets(products)
    if not targets.course_ids and not targets.plan_ids:
        return
    per_course, per_plan = _live_grants(user=user, now=now)
    plan_enrollments = {
        e.plan_id: e
        for e in PlanEnrollment.objects.select_for_update(of=("self",))
        .filter(user=user, plan_id__in=targets.plan_ids)
        .select_related("plan")
        .order_by("pk")
    }
    for plan in LearningPlan.objects.filter(pk__in=targets.plan_ids).order_by("pk"):
        _apply(
            enrollment=plan_enrollments.get(plan.pk),
            grant=per_plan.get(plan.pk),
            create=lambda plan=plan, **kw: plan_enrollment_create(
                user=user, plan=plan, actor=actor, **kw
            ),
            set_expiry=plan_enrollment_set_expiry,
            actor=actor,
            at=at,
        )
    enrollments = {
        e.course_id: e
        for e in Enrollment.objects.select_for_update(of=("self",))
        .filter(user=user, course_id__in=targets.course_ids)
        .select_related("course")
        .order_by("pk")
    }
    for course in Course.objects.filter(pk__in=targets.course_ids).order_by("pk"):
        enrollment = enrollments.get(course.pk)
        if enrollment is None:
            # A plan just created above may have enrolled the learner in its courses.
            enrollment = (
                Enrollment.objects.filter(user=user, course=course).select_related("course").first()
            )
        _apply(
            enrollment=enrollment,
            grant=per_course.get(course.pk),
            create=lambda course=course, **kw: enrollment_create(
                user=user, course=course, actor=actor, **kw
            ),
            set_expiry=enrollment_set_expiry,
            actor=actor,
            at=at,
        )
