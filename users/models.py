"""People and the organisation: users, the department tree, groups and custom fields.

Roles are Django permission groups (see users/roles.py); `User.groups` holds them.
Learner groups ("free sets of users") are `UserGroup`, held in `User.user_groups`."""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models import Value
from django.db.models.functions import Concat, Lower, Upper
from django.urls import reverse
from django.utils.crypto import salted_hmac

from lms.models import TimeStampedModel


class Department(TimeStampedModel):
    """A node of the organisation tree (also called a branch). `path` is the chain of primary
    keys from the root ("/1/4/9/"), so a subtree is one indexed prefix query."""

    name = models.CharField(max_length=120)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    depth = models.PositiveSmallIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["path"]
        constraints = [
            # Siblings have distinct names whatever their case, at the top level too (where
            # parent is NULL, which a plain unique constraint would treat as all different).
            models.UniqueConstraint(
                Lower("name"),
                "parent",
                name="department_unique_name_in_parent",
                nulls_distinct=False,
            ),
        ]

    def __str__(self) -> str:
        return self.name


class UserGroup(TimeStampedModel):
    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CustomField(TimeStampedModel):
    """An admin-defined field shown on every user's Details tab; values live in
    `User.custom_fields` under `key`."""

    class Kind(models.TextChoices):
        TEXT = "text", "Text"
        NUMBER = "number", "Number"
        DATE = "date", "Date"
        CHOICE = "choice", "Choice"

    label = models.CharField(max_length=120)
    key = models.SlugField(max_length=60, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.TEXT)
    choices = models.JSONField(default=list, blank=True)
    required = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "label"]

    def __str__(self) -> str:
        return self.label


class MeritUserManager(UserManager["User"]):
    pass


class User(AbstractUser):
    email = models.EmailField("email address")
    phone = models.CharField(max_length=40, blank=True)
    address = models.CharField(max_length=255, blank=True)
    avatar = models.ImageField(upload_to="avatars/", blank=True)
    bio = models.TextField(blank=True, max_length=2000)
    social_links = models.JSONField(default=dict, blank=True)
    departments = models.ManyToManyField(Department, related_name="members", blank=True)
    user_groups = models.ManyToManyField(UserGroup, related_name="members", blank=True)
    administered_departments = models.ManyToManyField(Department, related_name="admins", blank=True)
    custom_fields = models.JSONField(default=dict, blank=True)
    invited_at = models.DateTimeField(null=True, blank=True)
    joined_at = models.DateTimeField(null=True, blank=True)
    # Raised when the user is disabled: part of the session hash, so every session they had
    # ends (also after they are enabled again), whatever the session store, without reading
    # anyone's sessions.
    session_generation = models.PositiveIntegerField(default=0, editable=False)
    # The users-list search: first name, last name, username and e-mail in one upper-case
    # string, kept by PostgreSQL on every write and trigram-indexed, so a search term is one
    # indexed `LIKE '%TERM%'` per row instead of four upper-cased ones. A term never holds
    # whitespace (the search is split on it), so it matches this string exactly when it
    # matches one of the four fields. All four are NOT NULL.
    search_upper = models.GeneratedField(
        expression=Upper(
            Concat(
                "first_name",
                Value(" "),
                "last_name",
                Value(" "),
                "username",
                Value(" "),
                "email",
                output_field=models.TextField(),
            )
        ),
        output_field=models.TextField(),
        db_persist=True,
    )

    objects: MeritUserManager = MeritUserManager()  # type: ignore[misc]

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        permissions = [("manage_users", "Can manage users")]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
        ]
        indexes = [
            models.Index(fields=["last_name", "first_name", "id"], name="user_name_order"),
            models.Index(fields=["is_active", "last_name", "first_name"], name="user_active_name"),
            models.Index(fields=["last_login"], name="user_last_login"),
            GinIndex(OpClass("search_upper", name="gin_trgm_ops"), name="user_search_upper_trgm"),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def get_absolute_url(self) -> str:
        return reverse("users:detail", args=[self.pk])

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        """Django's session hash (of the password hash) with `session_generation` in it; at 0
        the same value as Django's, so sessions made before this field existed stay valid."""
        value = self.password
        if self.session_generation:
            value = f"{self.password}:{self.session_generation}"
        return salted_hmac(
            "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash",
            value,
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

    @property
    def initials(self) -> str:
        return ((self.first_name[:1] + self.last_name[:1]) or self.username[:2]).upper()


class UserSelection(models.Model):
    """Users picked in the users list (often "all matching"), kept on the server for another
    app's bulk page: the page and its form carry `?selection=<token>` instead of one
    `user_ids` field per user: Django answers 400 to a request of more than
    DATA_UPLOAD_MAX_NUMBER_FIELDS (1000) fields, and to a redirect longer than 16,384
    characters (about 1,100 ids). Only its creator may read it
    (`users.selectors.selected_user_ids`); it is kept for `max_age` and deleted when a newer
    selection is made (`users.services.user_selection_create`)."""

    max_age: ClassVar[timedelta] = timedelta(days=1)

    token = models.CharField(max_length=43, unique=True, editable=False)
    created_by = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    user_ids = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"{len(self.user_ids)} users selected by {self.created_by_id}"
