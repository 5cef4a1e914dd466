# Shipped search-space files. This folder is installed as the package ``adamtune.search_spaces``
# so that ``importlib.resources`` finds the files in a wheel as well as in a checkout.
