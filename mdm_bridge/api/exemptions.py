"""Placeholder router, being written (issue 7); replaced by its owner."""

from fastapi import APIRouter

router = APIRouter()
