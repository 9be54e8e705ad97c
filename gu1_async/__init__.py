"""gu1-async: the asyncio SDK for the gu1 compliance API."""
