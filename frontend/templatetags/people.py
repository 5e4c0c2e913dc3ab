from django import template

from documents.people import initials_of, person

register = template.Library()


@register.inclusion_tag("frontend/_avatar.html")
def avatar(user, size="md", title=None):
    """A round badge with the person's initials in their colour."""
    shown = person(user)
    return {"person": shown, "size": size, "title": title or shown.name}


@register.filter
def initials(name: str) -> str:
    return initials_of(name)


@register.filter
def ago(moment) -> str:
    """'just now' under a minute, else Django's timesince ('3 minutes ago')."""
    from django.utils import timezone
    from django.utils.timesince import timesince

    if moment is None:
        return ""
    if (timezone.now() - moment).total_seconds() < 60:
        return "just now"
    return f"{timesince(moment)} ago"
