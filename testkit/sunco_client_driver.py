"""Drive the emulator with Zendesk's own generated client (`sunshine-conversations-client`).

Runs in the client's own venv (pydantic 2, see scripts/sunco-client-venv), not the project's:
    python sunco_client_driver.py --host http://127.0.0.1:8090/sc --app-id ... --key-id ...
The key secret comes from the SUNCO_KEY_SECRET environment variable (not the command line).
Prints one JSON object with what the client saw.
"""

import argparse
import json
import os

import sunshine_conversations_client as sc


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", required=True)
    parser.add_argument("--app-id", required=True)
    parser.add_argument("--key-id", required=True)
    parser.add_argument("--external-id", default="official-client-user")
    args = parser.parse_args()
    app = args.app_id
    config = sc.Configuration(
        host=args.host, username=args.key_id, password=os.environ["SUNCO_KEY_SECRET"]
    )
    seen = {}
    with sc.ApiClient(config) as client:
        users = sc.UsersApi(client)
        conversations = sc.ConversationsApi(client)
        messages = sc.MessagesApi(client)
        switchboard = sc.SwitchboardActionsApi(client)

        profile = sc.Profile(given_name="Grace", surname="Hopper", email="grace@example.com")
        user = users.create_user(
            app, sc.UserCreateBody(external_id=args.external_id, profile=profile)
        )
        seen["user_id"] = user.user.id
        try:
            users.create_user(app, sc.UserCreateBody(external_id=args.external_id))
        except sc.ApiException as exc:
            seen["duplicate_status"] = exc.status
        seen["fetched_external_id"] = users.get_user(app, args.external_id).user.external_id

        participant = sc.ParticipantSubSchema(
            sc.ParticipantWithUserExternalId(user_external_id=args.external_id)
        )
        created = conversations.create_conversation(
            app,
            sc.ConversationCreateBody(
                type="personal",
                participants=[participant],
                metadata={"rasa_sender_id": args.external_id},
            ),
        )
        conversation_id = created.conversation.id
        seen["conversation_id"] = conversation_id
        seen["created_active"] = created.conversation.active_switchboard_integration.name

        posted = messages.post_message(
            app,
            conversation_id,
            sc.MessagePost(
                author=sc.Author(type="user", user_external_id=args.external_id),
                content=sc.Content(
                    sc.TextMessage(type="text", text="Hello from the official client")
                ),
                metadata={"rasa_zendesk_origin": "rasa"},
            ),
        )
        seen["message_id"] = posted.messages[0].id
        seen["message_author_user_id"] = posted.messages[0].author.user_id

        switchboard.pass_control(
            app,
            conversation_id,
            sc.PassControlBody(
                switchboard_integration="zd-agentWorkspace",
                metadata={"first_message_id": posted.messages[0].id},
            ),
        )
        fetched = conversations.get_conversation(app, conversation_id).conversation
        seen["active_after_pass"] = fetched.active_switchboard_integration.name

        switchboard.release_control(
            app, conversation_id, sc.ReleaseControlBody(metadata={"released_by": "client"})
        )
        fetched = conversations.get_conversation(app, conversation_id).conversation
        seen["active_after_release"] = (
            fetched.active_switchboard_integration.name
            if fetched.active_switchboard_integration
            else None
        )

        listed = messages.list_messages(app, conversation_id)
        seen["listed_texts"] = [m.content.actual_instance.text for m in listed.messages]
        try:
            conversations.get_conversation(app, "000000000000000000000000")
        except sc.ApiException as exc:
            seen["missing_status"] = exc.status
            seen["missing_body"] = json.loads(exc.body)
    print(json.dumps(seen))


if __name__ == "__main__":
    main()
