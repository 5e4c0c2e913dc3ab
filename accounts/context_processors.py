from django.conf import settings


def signup(request):
    """`signup_open`: whether the sign-in page offers the sign-up page (SIGNUP_ENABLED)."""
    return {"signup_open": settings.SIGNUP_ENABLED}
