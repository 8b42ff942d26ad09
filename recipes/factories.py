"""Ordinary factory-boy factories for the demo schema: nothing in them is seedkit-specific."""

from __future__ import annotations

import random

import factory
import factory.fuzzy

from .models import Order, OrderItem, Product, Project, Task, User

LABELS = ["bug", "feature", "docs", "ops", "design", "research"]


class BaseFactory(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_persistence = "flush"


class UserFactory(BaseFactory):
    class Meta:
        model = User

    name = factory.Faker("name")
    username = factory.Faker("user_name")
    email = factory.Faker("email")
    is_active = True
    is_admin = False
    suspended_at = None
    created_at = factory.Faker("date_time_between", start_date="-2y", end_date="now")

    class Params:
        admin = factory.Trait(is_admin=True)
        suspended = factory.Trait(
            is_active=False,
            # After sign-up: Faker's arguments may name other values of the row.
            suspended_at=factory.Faker("date_time_between", start_date=factory.SelfAttribute("..created_at")),
        )


class ProductFactory(BaseFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Faker("catch_phrase")
    price = factory.Faker("pydecimal", left_digits=3, right_digits=2, min_value=1, max_value=500)


class OrderFactory(BaseFactory):
    class Meta:
        model = Order

    user = factory.SubFactory(UserFactory)
    status = factory.fuzzy.FuzzyChoice(["pending", "paid", "shipped", "delivered", "cancelled"])
    # After its user signed up.
    created_at = factory.Faker("date_time_between", start_date=factory.SelfAttribute("..user.created_at"))


class OrderItemFactory(BaseFactory):
    class Meta:
        model = OrderItem

    order = factory.SubFactory(OrderFactory)
    product = factory.SubFactory(ProductFactory)
    quantity = factory.fuzzy.FuzzyInteger(1, 5)
    unit_price = factory.SelfAttribute("product.price")


class ProjectFactory(BaseFactory):
    class Meta:
        model = Project

    name = factory.Faker("bs")


class TaskFactory(BaseFactory):
    class Meta:
        model = Task

    project = factory.SubFactory(ProjectFactory)
    title = factory.Faker("sentence", nb_words=4)
    status = factory.fuzzy.FuzzyChoice(["todo", "doing", "review", "done"])
    priority = factory.fuzzy.FuzzyInteger(1, 4)
    meta = factory.LazyFunction(lambda: {"estimate_hours": random.randint(1, 13), "labels": random.sample(LABELS, 2)})
