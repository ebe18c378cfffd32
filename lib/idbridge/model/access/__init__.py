"""The access model: every path from an Entra user to an AWS account and permission set.

    activity.py  When each person who holds access last signed in, on either side of the bridge
    build.py     The access model: every path from a person to (AWS account × permission set), one row each, with…
    ca.py        Which Conditional Access policies require MFA for the AWS app, and whom they reach
    columns.py   The access table: one row per path from a person to (AWS account × permission set)
    dims.py      The dimension tables of the access model: one row per Entra user, Identity Center user and group…
    hashing.py   Stable path ids: a 64-bit hash of a path's hop ids, as 16 hex characters
    paths.py     Every path from a person to an account assignment, as arrays of positions into the dimension tables
    views.py     Reading the access table: one path explained hop by hop, who reaches what, and privilege matrices
"""
