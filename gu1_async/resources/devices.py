"""`client.devices`: devices seen for an entity (gu1-api.md §2.5)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gu1_async._serde import compact, unwrap
from gu1_async.models import Device, DevicePlatform
from gu1_async.pagination import AsyncPaginator
from gu1_async.resources._base import Resource, endpoint
from gu1_async.resources._params import Body

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from gu1_async._types import PageOptions, RequestOptions

__all__ = ["Devices"]


class Devices(Resource):
    """Register devices by hand (normally they come from events) and list them."""

    @endpoint("POST", "/devices/entity/{entity_id}", operation="devices.register", doc=43)
    async def register(
        self,
        entity_id: str,
        *,
        device_id: str | None = None,
        platform: DevicePlatform | None = None,
        manufacturer: str | None = None,
        model: str | None = None,
        brand: str | None = None,
        device_name: str | None = None,
        os_version: str | None = None,
        system_name: str | None = None,
        system_version: str | None = None,
        browser: str | None = None,
        browser_version: str | None = None,
        latitude: float | None = None,
        longitude: float | None = None,
        city: str | None = None,
        region: str | None = None,
        country: str | None = None,
        country_code: str | None = None,
        ip_address: str | None = None,
        is_emulator: bool | None = None,
        is_rooted: bool | None = None,
        extra_body: Body | None = None,
        **options: Unpack[RequestOptions],
    ) -> Device:
        """Register a device for an entity."""
        body = compact(
            {
                "deviceId": device_id,
                "platform": platform,
                "manufacturer": manufacturer,
                "model": model,
                "brand": brand,
                "deviceName": device_name,
                "osVersion": os_version,
                "systemName": system_name,
                "systemVersion": system_version,
                "browser": browser,
                "browserVersion": browser_version,
                "latitude": latitude,
                "longitude": longitude,
                "city": city,
                "region": region,
                "country": country,
                "countryCode": country_code,
                "ipAddress": ip_address,
                "isEmulator": is_emulator,
                "isRooted": is_rooted,
            },
            extra_body,
        )
        data = await self._request(
            "devices.register", {"entity_id": entity_id}, json=body, **options
        )
        return Device.from_api(unwrap(data, "device"))

    @endpoint(
        "GET", "/devices/entity/{entity_id}", operation="devices.list", doc=44, paginated="offset"
    )
    def list(
        self,
        entity_id: str,
        **options: Unpack[PageOptions],
    ) -> AsyncPaginator[Device]:
        """Iterate an entity's devices, most recently seen first (page size up to 1000)."""
        return self._paginate(
            "devices.list",
            Device,
            "devices",
            {"entity_id": entity_id},
            params={},
            max_page_size=1000,
            **options,
        )
