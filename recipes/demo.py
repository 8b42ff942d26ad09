"""The demo recipe: a shop with customers, admins and orders, and a task tracker."""

from seedkit import Recipe, between

from .factories import OrderFactory, OrderItemFactory, ProductFactory, ProjectFactory, TaskFactory, UserFactory

recipe = Recipe("A small shop (users, products, orders, order items) and a task tracker (projects, tasks).")

users = recipe.add(UserFactory, 50)
admins = recipe.add(UserFactory, 5, traits=["admin"], step_name="admins")
suspended = recipe.add(UserFactory, 3, traits=["suspended"], step_name="suspended_users")
products = recipe.add(ProductFactory, 20)
orders = recipe.add(OrderFactory, per=users, count=between(0, 5))
order_items = recipe.add(OrderItemFactory, per=orders, count=between(1, 4), refs={"product": products})
projects = recipe.add(ProjectFactory, 10)
tasks = recipe.add(TaskFactory, per=projects, count=between(3, 12))
