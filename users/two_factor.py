"""Two-factor authentication (README "Security"), on django-otp: a TOTP device (an
authenticator app) per user, plus single-use recovery codes (a static device) shown once.

A user with a confirmed device is asked for a code after their password (users.views.security.
TwoFactorVerifyView). `MERIT_REQUIRE_2FA_FOR` names the roles that must have one: their
sessions go nowhere but the set-up page until they have (users.middleware.
TwoFactorRequiredMiddleware), and they cannot start impersonating without a verified second
factor in the session (users.permissions.can_impersonate)."""

from __future__ import annotations

import base64
import io
import math
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_otp import match_token
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from lms.event_kinds import EventKind
from lms.events import event_record
from users.models import User
from users.roles import Role, user_role_names

RECOVERY_CODE_COUNT = 10
# The setting's names for the roles (environment-friendly: no spaces).
ROLE_KEYS = {
    "super_admin": Role.SUPER_ADMIN,
    "department_admin": Role.DEPARTMENT_ADMIN,
    "customer_service": Role.CUSTOMER_SERVICE,
    "learner": Role.LEARNER,
}
TOTP_NAME = "Authenticator app"
RECOVERY_NAME = "Recovery codes"


def required_roles() -> set[str]:
    return {ROLE_KEYS[key] for key in settings.MERIT_REQUIRE_2FA_FOR if key in ROLE_KEYS}


def two_factor_required(user: User) -> bool:
    """Whether the settings demand a second factor of this user (by any role they hold)."""
    return bool(user.is_authenticated and required_roles() & user_role_names(user))


def two_factor_verified(user: User) -> bool:
    """Whether this request's user passed a second factor in this session (django-otp's
    middleware puts `is_verified` on request.user)."""
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified and is_verified())


def totp_device(user: User, *, confirmed: bool = True) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=confirmed).order_by("pk").first()


def two_factor_enabled(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


@dataclass(frozen=True)
class TwoFactorStatus:
    enabled: bool
    required: bool
    recovery_codes_left: int


def two_factor_status(user: User) -> TwoFactorStatus:
    return TwoFactorStatus(
        enabled=two_factor_enabled(user),
        required=two_factor_required(user),
        recovery_codes_left=recovery_codes_left(user),
    )


def totp_secret_base32(device: TOTPDevice) -> str:
    """The key as authenticator apps take it when typed in."""
    return base64.b32encode(device.bin_key).decode().rstrip("=")


def totp_qr_data_uri(device: TOTPDevice) -> str:
    """The otpauth:// URL as a QR code (an SVG data URI: no request to any other site)."""
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


@transaction.atomic
def two_factor_setup_start(*, user: User) -> TOTPDevice:
    """The unconfirmed device the set-up page shows (the same one until confirmed, so reloading
    the page does not change the QR code already scanned)."""
    device = totp_device(user, confirmed=False)
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)
    return device


def _recovery_codes_replace(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def _token_clean(token: str) -> str:
    return "".join(str(token).split()).lower()


@transaction.atomic
def two_factor_setup_confirm(*, user: User, token: str) -> tuple[TOTPDevice, list[str]]:
    """Confirm the pending device with a code from the app; returns it and the new recovery
    codes (to show once: only they are stored, and each works once)."""
    device = totp_device(user, confirmed=False)
    if device is None:
        raise ValidationError("Start the set-up again: no authenticator is waiting for a code.")
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
    if not device.verify_token(_token_clean(token)):
        raise ValidationError(
            "That code is not right. Check that the app shows Merit's entry and type the "
            "6 digits it shows now."
        )
    device.confirmed = True
    device.save()
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    codes = _recovery_codes_replace(user)
    event_record(
        kind=EventKind.USER_TWO_FACTOR_ENABLED, actor=user, subject=user, target=user, manual=False
    )
    return device, codes


def two_factor_check(*, user: User, token: str) -> Device | None:
    """The device that accepts this code (an authenticator code, or a recovery code, which is
    used up), or None. django-otp throttles each device after failures."""
    return match_token(user, _token_clean(token))


def two_factor_wait_seconds(user: User) -> int:
    """How long django-otp still refuses codes for this user's app after wrong ones (it waits
    1, 2, 4, 8... seconds after each failure), 0 when it takes them."""
    wait = 0
    for device in TOTPDevice.objects.filter(user=user, confirmed=True):
        allowed, info = device.verify_is_allowed()
        locked_until = (info or {}).get("locked_until")
        if not allowed and locked_until is not None:
            wait = max(wait, math.ceil((locked_until - timezone.now()).total_seconds()))
    return wait


@transaction.atomic
def two_factor_recovery_codes_create(*, user: User, token: str) -> list[str]:
    """New recovery codes (the old ones stop working), after a current code."""
    if not two_factor_enabled(user):
        raise ValidationError("Set up two-factor authentication first.")
    if two_factor_check(user=user, token=token) is None:
        raise ValidationError("That code is not right.")
    codes = _recovery_codes_replace(user)
    event_record(
        kind=EventKind.USER_RECOVERY_CODES_CREATED,
        actor=user,
        subject=user,
        target=user,
        manual=False,
    )
    return codes


@transaction.atomic
def two_factor_disable(*, user: User, token: str) -> None:
    """Turn two-factor authentication off, after a current code (or a recovery code); not for
    someone whose role requires it."""
    if two_factor_required(user):
        raise ValidationError("Your role requires two-factor authentication.")
    if not two_factor_enabled(user):
        raise ValidationError("Two-factor authentication is not set up.")
    if two_factor_check(user=user, token=token) is None:
        raise ValidationError("That code is not right.")
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    event_record(
        kind=EventKind.USER_TWO_FACTOR_DISABLED, actor=user, subject=user, target=user, manual=False
    )
