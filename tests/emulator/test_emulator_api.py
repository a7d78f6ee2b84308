"""The SunCo routes over real HTTP; every response is checked against the spec (see conftest)."""

from __future__ import annotations

import aiohttp
import jwt
import pytest

from rasa_zendesk.emulator import EmulatorServer
from testkit.emulator_support import SunCoApi


async def test_users_are_created_once_and_found_by_id_or_external_id(api: SunCoApi) -> None:
    user = await api.create_user("rasa-7", givenName="Jane", email="jane@example.com")
    assert user["externalId"] == "rasa-7"
    assert user["profile"] == {"givenName": "Jane", "email": "jane@example.com"}

    _, conflict = await api.call("POST", "/users", json_body={"externalId": "rasa-7"}, expect=409)
    assert conflict == {"errors": [{"code": "conflict", "title": "User already exists"}]}

    by_id = await api.ok("GET", f"/users/{user['id']}")
    by_external = await api.ok("GET", "/users/rasa-7")
    assert by_id == by_external == {"user": user}
    _, missing = await api.call("GET", "/users/nobody", expect=404)
    assert missing["errors"][0]["code"] == "user_not_found"


async def test_a_conversation_starts_with_the_bot_in_control(api: SunCoApi) -> None:
    user = await api.create_user("rasa-1")
    conversation = await api.create_conversation("rasa-1", {"rasa_sender_id": "rasa-1"})
    assert conversation["type"] == "personal"
    assert conversation["metadata"] == {"rasa_sender_id": "rasa-1"}
    active = conversation["activeSwitchboardIntegration"]
    assert (active["name"], active["integrationType"]) == ("rasa", "custom")

    fetched = await api.ok("GET", f"/conversations/{conversation['id']}")
    assert fetched == {"conversation": conversation}

    by_user_id = await api.ok("GET", f"/conversations?filter[userId]={user['id']}")
    by_external = await api.ok("GET", "/conversations?filter[userExternalId]=rasa-1")
    assert [c["id"] for c in by_user_id["conversations"]] == [conversation["id"]]
    assert by_external["conversations"] == by_user_id["conversations"]
    assert by_external["meta"]["hasMore"] is False

    _, missing = await api.call("GET", "/conversations/000000000000000000000000", expect=404)
    assert missing == {
        "errors": [{"code": "conversation_not_found", "title": "Conversation not found"}]
    }


async def test_conversations_are_created_by_user_id_too_and_listed_in_pages(
    api: SunCoApi,
) -> None:
    user = await api.create_user("rasa-2")
    created = []
    for _ in range(3):
        body = {"type": "personal", "participants": [{"userId": user["id"]}]}
        created.append((await api.ok("POST", "/conversations", body, expect=201))["conversation"])
    ids = [c["id"] for c in created]
    newest = await api.ok("GET", "/conversations?filter[userId]=" + user["id"] + "&page[size]=2")
    assert [c["id"] for c in newest["conversations"]] == ids[1:]
    assert newest["meta"]["hasMore"] is True
    assert f"filter%5BuserId%5D={user['id']}" in newest["links"]["prev"]  # filters are kept
    older = await api.ok(
        "GET", f"/conversations?filter[userId]={user['id']}&page[before]={ids[1]}&page[size]=2"
    )
    assert [c["id"] for c in older["conversations"]] == ids[:1]
    assert older["meta"]["hasMore"] is False


async def test_messages_keep_author_content_metadata_and_get_ids(api: SunCoApi) -> None:
    await api.create_user("rasa-1", givenName="Jane", surname="Doe")
    conversation = await api.create_conversation("rasa-1")
    cid = conversation["id"]
    user_message = await api.post_message(
        cid,
        {
            "author": {"type": "user", "userExternalId": "rasa-1"},
            "content": {"type": "text", "text": "I need a human"},
            "metadata": {"rasa_zendesk_origin": "rasa"},
        },
    )
    author = user_message["author"]
    assert author["type"] == "user" and "userExternalId" not in author  # write-only
    assert author["displayName"] == "Jane Doe"
    assert user_message["source"] == {"type": "api:conversations"}
    assert user_message["metadata"] == {"rasa_zendesk_origin": "rasa"}

    bot = {"type": "business", "displayName": "Bot", "avatarUrl": "https://example.com/bot.png"}
    contents = [
        {"type": "image", "mediaUrl": "https://example.com/receipt.png", "altText": "receipt"},
        {"type": "file", "mediaUrl": "https://example.com/invoice.pdf"},
        {"type": "text", "text": "x" * 4096},
        {
            "type": "carousel",
            "items": [
                {"title": "A", "actions": [{"type": "link", "text": "Go", "uri": "https://a.io"}]}
            ],
        },
        {"type": "location", "coordinates": {"lat": 45.5, "long": -73.5}},
        {
            "type": "text",
            "text": "Pick one",
            "actions": [{"type": "reply", "text": "Yes", "payload": "y"}],
        },
    ]
    for content in contents:
        message = await api.post_message(cid, {"author": bot, "content": content})
        assert message["content"]["type"] == content["type"]
        assert message["author"] == bot
    image = (await api.ok("GET", f"/conversations/{cid}/messages"))["messages"][1]
    assert image["content"]["mediaType"] == "image/png"  # as SunCo adds it

    listed = await api.ok("GET", f"/conversations/{cid}/messages")
    assert [m["id"] for m in listed["messages"]][0] == user_message["id"]
    assert len(listed["messages"]) == 1 + len(contents)
    assert listed["meta"]["hasMore"] is False


async def test_text_over_4096_characters_is_refused(api: SunCoApi) -> None:
    conversation = await api.handed_off()
    body = {"author": {"type": "business"}, "content": {"type": "text", "text": "x" * 4097}}
    path = f"/conversations/{conversation['id']}/messages"
    _, error = await api.call("POST", path, json_body=body, expect=400)
    assert error["errors"][0]["code"] == "bad_request"
    assert "4096" in error["errors"][0]["title"]


@pytest.mark.timeout(30)
async def test_messages_page_backwards_from_the_newest(api: SunCoApi) -> None:
    await api.create_user("rasa-1")
    cid = (await api.create_conversation("rasa-1"))["id"]
    posted = [(await api.post_text(cid, f"message {n}"))["id"] for n in range(205)]

    newest = await api.ok("GET", f"/conversations/{cid}/messages")
    assert [m["id"] for m in newest["messages"]] == posted[105:]
    assert newest["meta"]["hasMore"] is True
    assert newest["meta"]["beforeCursor"] == posted[105]
    assert f"page%5Bbefore%5D={posted[105]}" in newest["links"]["prev"]

    middle = await api.ok("GET", f"/conversations/{cid}/messages?page[before]={posted[105]}")
    assert [m["id"] for m in middle["messages"]] == posted[5:105]
    assert middle["meta"]["hasMore"] is True
    oldest = await api.ok("GET", f"/conversations/{cid}/messages?page[before]={posted[5]}")
    assert [m["id"] for m in oldest["messages"]] == posted[:5]
    assert oldest["meta"]["hasMore"] is False

    after = await api.ok("GET", f"/conversations/{cid}/messages?page[after]={posted[0]}")
    assert [m["id"] for m in after["messages"]] == posted[1:101]
    assert after["meta"]["hasMore"] is True and after["meta"]["afterCursor"] == posted[100]

    both = f"/conversations/{cid}/messages?page[after]={posted[0]}&page[before]={posted[9]}"
    await api.call("GET", both, expect=400)
    await api.call("GET", f"/conversations/{cid}/messages?page[before]=unknown", expect=400)


async def test_activities_are_accepted(api: SunCoApi) -> None:
    conversation = await api.handed_off()
    path = f"/conversations/{conversation['id']}/activity"
    for kind in ("typing:start", "typing:stop", "conversation:read"):
        assert await api.ok("POST", path, {"type": kind, "author": {"type": "business"}}) == {}
    read = {"type": "conversation:read", "author": {"type": "user", "userExternalId": "rasa-1"}}
    assert await api.ok("POST", path, read) == {}
    typing = {"type": "typing:start", "author": {"type": "user", "userExternalId": "rasa-1"}}
    await api.call("POST", path, json_body=typing, expect=400)  # a user may only read


async def test_switchboard_pass_offer_accept_release(
    api: SunCoApi, emulator: EmulatorServer
) -> None:
    await api.create_user("rasa-1")
    cid = (await api.create_conversation("rasa-1"))["id"]

    async def active() -> object:
        conversation = (await api.ok("GET", f"/conversations/{cid}"))["conversation"]
        pending = conversation.get("pendingSwitchboardIntegration")
        current = conversation.get("activeSwitchboardIntegration")
        return (current or {}).get("name"), (pending or {}).get("name")

    board = emulator.emulator.switchboard
    # By name, by integration type, by id, and `next`.
    await api.pass_control(cid, "zd-agentWorkspace", {"first_message_id": "m1"})
    assert await active() == ("zd-agentWorkspace", None)
    await api.pass_control(cid, "custom")
    assert await active() == ("rasa", None)
    await api.pass_control(cid, board.agent_workspace.id)
    assert await active() == ("zd-agentWorkspace", None)
    await api.pass_control(cid, "next")
    assert await active() == ("rasa", None)
    await api.pass_control(cid, "zd:agentWorkspace")
    assert await active() == ("zd-agentWorkspace", None)

    _, error = await api.call(
        "POST", f"/conversations/{cid}/passControl", json_body={"switchboardIntegration": "nope"}
    )
    assert error["errors"][0]["code"] == "bad_request"

    offer = {"switchboardIntegration": "rasa", "metadata": {"why": "bot back"}}
    assert await api.ok("POST", f"/conversations/{cid}/offerControl", offer) == {}
    assert await active() == ("zd-agentWorkspace", "rasa")
    assert await api.ok("POST", f"/conversations/{cid}/acceptControl", {}) == {}
    assert await active() == ("rasa", None)
    same = {"switchboardIntegration": "rasa"}
    await api.call("POST", f"/conversations/{cid}/offerControl", json_body=same, expect=400)
    await api.call("POST", f"/conversations/{cid}/acceptControl", json_body={}, expect=400)

    # releaseControl takes an optional body.
    assert await api.ok("POST", f"/conversations/{cid}/releaseControl") == {}
    assert await active() == (None, None)
    assert (
        await api.ok("POST", f"/conversations/{cid}/releaseControl", {"metadata": {"a": 1}}) == {}
    )
    # A user message gives the conversation back to the default integration.
    await api.post_text(cid, "hello again", type="user", userExternalId="rasa-1")
    assert await active() == ("rasa", None)


async def test_switchboards_and_their_integrations_are_listed(api: SunCoApi) -> None:
    switchboards = (await api.ok("GET", "/switchboards"))["switchboards"]
    assert len(switchboards) == 1 and switchboards[0]["enabled"] is True
    path = f"/switchboards/{switchboards[0]['id']}/switchboardIntegrations"
    integrations = (await api.ok("GET", path))["switchboardIntegrations"]
    by_name = {i["name"]: i for i in integrations}
    assert by_name["zd-agentWorkspace"]["integrationType"] == "zd:agentWorkspace"
    assert by_name["rasa"]["integrationType"] == "custom"
    assert switchboards[0]["defaultSwitchboardIntegrationId"] == by_name["rasa"]["id"]
    await api.call("GET", "/switchboards/unknown/switchboardIntegrations", expect=404)


async def test_the_bot_integration_name_is_configurable() -> None:
    from rasa_zendesk.emulator import run_emulator

    async with run_emulator(bot_integration_name="my-bot") as server, aiohttp.ClientSession() as s:
        api = SunCoApi(s, server)
        await api.create_user("u")
        conversation = await api.create_conversation("u")
        assert conversation["activeSwitchboardIntegration"]["name"] == "my-bot"


async def test_attachments_are_uploaded_and_then_served(api: SunCoApi) -> None:
    conversation = await api.handed_off()
    form = aiohttp.FormData()
    form.add_field(
        "source", b"\x89PNG fake image", filename="my photo.png", content_type="image/png"
    )
    query = f"?access=public&for=message&conversationId={conversation['id']}"
    _, body = await api.call("POST", "/attachments" + query, data=form, expect=201)
    attachment = body["attachment"]
    assert attachment["mediaType"] == "image/png"
    assert attachment["mediaUrl"].startswith(api.server.api_url + "/attachments/v2/")
    assert attachment["mediaUrl"].endswith("/my%20photo.png")
    async with api.session.get(attachment["mediaUrl"]) as response:  # public: no auth
        assert response.status == 200
        assert response.headers["Content-Type"] == "image/png"
        assert await response.read() == b"\x89PNG fake image"

    # An uploaded file can then be sent in a message.
    message = await api.post_message(
        conversation["id"],
        {
            "author": {"type": "business"},
            "content": {"type": "image", "mediaUrl": attachment["mediaUrl"]},
        },
    )
    assert message["content"]["mediaUrl"] == attachment["mediaUrl"]


@pytest.mark.filterwarnings("ignore:The HMAC key")  # the demo secret is short on purpose
async def test_jwt_with_the_key_id_and_app_scope_is_accepted(api: SunCoApi) -> None:
    config = api.server.config
    token = jwt.encode(
        {"scope": "app"}, config.key_secret, algorithm="HS256", headers={"kid": config.key_id}
    )
    headers = {"Authorization": f"Bearer {token}"}
    _, body = await api.call(
        "POST", "/users", json_body={"externalId": "jwt-user"}, auth=None, headers=headers
    )
    assert body["user"]["externalId"] == "jwt-user"
