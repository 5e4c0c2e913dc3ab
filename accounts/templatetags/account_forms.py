from django import template

register = template.Library()


@register.filter
def as_input(field):
    """A form field's widget with the product's input class (allauth's forms carry none)."""
    css = "checkbox" if field.widget_type == "checkbox" else "input"
    if field.errors:
        css += " input--invalid"
    return field.as_widget(attrs={"class": css})
