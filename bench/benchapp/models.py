"""The one table of the "insert" baseline: installed only under config.settings.bench."""

from django.db import models


class BenchRow(models.Model):
    name = models.CharField(max_length=64)
    value = models.IntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.name}={self.value}"
