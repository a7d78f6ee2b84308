"""The demo: the example bot, the Zendesk emulator and a web chat page as one local stack.

`demo.stack` starts and stops the processes (also used by the end-to-end tests);
`demo.web_server` serves the customer page.
"""
