"""Append a paragraph to a document from Python, with pycrdt's own Provider.

    SERVER=ws://localhost:8000 DOCUMENT=<id> TOKEN=<api token> python example.py "Hello"
"""

import asyncio
import os
import sys

import websockets
from pycrdt import Doc, Provider, XmlElement, XmlFragment, XmlText


class Channel:
    """What pycrdt's Provider talks through: a WebSocket with send, recv and a path."""

    def __init__(self, websocket, path):
        self.websocket, self.path = websocket, path

    def __aiter__(self):
        return self

    async def __anext__(self):
        try:
            return await self.websocket.recv()
        except websockets.ConnectionClosedOK:
            raise StopAsyncIteration from None

    async def send(self, message):
        await self.websocket.send(message)


async def main(text):
    url = f"{os.environ['SERVER']}/ws/documents/{os.environ['DOCUMENT']}/"
    headers = {"Authorization": f"Bearer {os.environ['TOKEN']}"}  # or a session cookie
    doc = Doc()
    async with websockets.connect(url, additional_headers=headers) as websocket:
        async with Provider(doc, Channel(websocket, url)) as provider:
            await provider.synced.wait()
            paragraph = XmlElement("paragraph", contents=[XmlText(text)])
            doc.get("default", type=XmlFragment).children.append(paragraph)
        # Leaving the provider sends what is queued; the server stores it within a second.


asyncio.run(main(sys.argv[1]))
