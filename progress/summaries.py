"""What a mark-complete did, counted per user and per activity, and said in one message.

The counts are a job's summary (lms.jobs adds up the chunks' counters), so a background run
and an inline one are told the same way: how many activity completions were recorded for how
many learners, and which activities were skipped for how many learners because they had
completed them already."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from progress.models import Course
from progress.services import MarkCompleteResult

COMPLETED = "completed"  # learners who got at least one completion
ALREADY_COMPLETE = "already complete"  # learners who had every chosen activity already
ERRORS = "errors"
ACTIVITY_COMPLETIONS = "activity completions"
COMPLETED_PREFIX = "completed: "  # + "Module · Activity": learners who got it now
SKIPPED_PREFIX = "skipped, already complete: "  # + "Module · Activity": learners who had it
LISTED = 5  # activities named in a message; more are counted


def mark_complete_counts(result: MarkCompleteResult) -> Counter[str]:
    counts: Counter[str] = Counter()
    counts[COMPLETED] += len(result.completed_users)
    counts[ALREADY_COMPLETE] += len(result.already_complete_users)
    counts[ACTIVITY_COMPLETIONS] += result.activities_completed
    for name, users in result.completed_by_activity.items():
        counts[COMPLETED_PREFIX + name] += users
    for name, users in result.skipped_by_activity.items():
        counts[SKIPPED_PREFIX + name] += users
    return counts


def _learners(count: int) -> str:
    return f"{count} learner{'' if count == 1 else 's'}"


def _per_activity(counts: Mapping[str, int], prefix: str) -> list[str]:
    named = sorted(
        (
            (key.removeprefix(prefix), n)
            for key, n in counts.items()
            if key.startswith(prefix) and n
        ),
        key=lambda pair: (-pair[1], pair[0]),
    )
    shown = [f"“{name}” for {_learners(n)}" for name, n in named[:LISTED]]
    if len(named) > LISTED:
        shown.append(f"{len(named) - LISTED} more activities")
    return shown


def mark_complete_message(
    *, course: Course, counts: Mapping[str, int], errors: Sequence[tuple[int, str]] = ()
) -> str:
    """One message for an admin: e.g. "Mark complete for “Sales basics”: 5 activity completions
    recorded for 3 learners (“Module 1 · Lesson” for 3 learners, “Module 1 · Exam” for 2
    learners). Skipped because already complete: “Module 1 · Exam” for 1 learner." Nothing
    that is zero is mentioned."""
    done = counts.get(ACTIVITY_COMPLETIONS, 0)
    learners = counts.get(COMPLETED, 0)
    if done:
        text = (
            f"Mark complete for “{course}”: {done} activity completion{'' if done == 1 else 's'}"
            f" recorded for {_learners(learners)}"
        )
        completed = _per_activity(counts, COMPLETED_PREFIX)
        text += f" ({', '.join(completed)})." if completed else "."
    else:
        text = f"Mark complete for “{course}”: nothing new to record."
    skipped = _per_activity(counts, SKIPPED_PREFIX)
    if skipped:
        text += f" Skipped because already complete: {', '.join(skipped)}."
    already = counts.get(ALREADY_COMPLETE, 0)
    if already:
        text += (
            f" {_learners(already)} had every chosen activity complete already"
            " and nothing was changed for them."
        )
    if errors:
        reasons = "; ".join(sorted({message for _, message in errors}))
        text += f" Not done for {_learners(len(errors))}: {reasons}"
    return text
