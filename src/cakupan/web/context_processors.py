"""Template context every page needs: the demo banner and the product's name."""

from __future__ import annotations

from django.http import HttpRequest

from cakupan.registry.models import DemoDataset


def site(request: HttpRequest) -> dict[str, object]:
    return {"demo_dataset": DemoDataset.objects.order_by("-loaded_at").first()}
