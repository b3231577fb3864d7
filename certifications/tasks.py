from celery import shared_task

from certifications.services import certification_reminders_send


@shared_task(name="certifications.reminders_send", acks_late=True)
def certification_reminders_task() -> dict[str, int]:
    """Daily: renewal and expiry emails (once per award per stage), expired awards marked."""
    run = certification_reminders_send()
    return {
        "renewal_emails": run.renewal_emails,
        "expired_emails": run.expired_emails,
        "marked_expired": run.marked_expired,
    }
