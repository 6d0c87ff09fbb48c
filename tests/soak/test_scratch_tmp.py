import asyncio, time
from datetime import timedelta
from homeassistant.core import HomeAssistant


async def test_sleep_under_freezer(hass: HomeAssistant, freezer) -> None:
    loop = asyncio.get_running_loop()
    t0 = loop.time(); r0 = time.perf_counter()
    freezer.tick(timedelta(seconds=5))
    print("loop time moved by", loop.time() - t0)
    try:
        await asyncio.wait_for(asyncio.sleep(0.05), 2)
        print("sleep ok", time.perf_counter() - r0)
    except TimeoutError:
        print("sleep hung")
