"""A tiny recipe for quick checks and tests: a few users with orders."""

from seedkit import Recipe

from .factories import OrderFactory, OrderItemFactory, ProductFactory, UserFactory

recipe = Recipe("A handful of users, products and orders, for quick checks.")

users = recipe.add(UserFactory, 3)
products = recipe.add(ProductFactory, 2)
orders = recipe.add(OrderFactory, per=users, count=2)
items = recipe.add(OrderItemFactory, per=orders, count=(1, 2), refs={"product": products})
