import factory
from django.contrib.auth.models import Group

from apps.accounts.models import User

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    first_name = "Ana"
    last_name = "Torres"
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        """`UserFactory(roles=["catalog_manager"])` makes a staff member of those groups."""
        self.save()
        if extracted:
            self.groups.set(Group.objects.filter(name__in=extracted))


class StaffFactory(UserFactory):
    email = factory.Sequence(lambda n: f"staff{n}@example.com")
    is_staff = True


class SuperuserFactory(StaffFactory):
    email = factory.Sequence(lambda n: f"admin{n}@example.com")
    is_superuser = True
