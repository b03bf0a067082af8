"""Packages of o2c, found rather than listed: each top-level folder of the design card is a
sub-package of `o2c` (flows/ is o2c.flows), and every folder below it with an __init__.py ships."""

from setuptools import find_packages, setup

ROOTS = {
    "o2c": "o2c",
    "o2c.flows": "flows",
    "o2c.tasks": "tasks",
    "o2c.models": "models",
    "o2c.sql": "sql",
    "o2c.expectations": "expectations",
    "o2c.templates": "templates",
}

setup(
    package_dir=ROOTS,
    packages=[
        f"{name}.{sub}" if sub else name
        for name, folder in ROOTS.items()
        for sub in ["", *find_packages(folder)]
    ],
)
