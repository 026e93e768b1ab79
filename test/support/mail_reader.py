"""One of the test judges: reads messages with Python's `email` package
(policy.default) and says what it decoded.

A long-lived child of test/support/mail-readers.ts. Each stdin line is JSON
{"raw": base64 of the message, "headers": [extra header names]}; each
stdout line answers it with JSON: subject, address lists, text and html
bodies, attachments (filename, Content-Type name, media type, Content-ID,
base64 bytes) and every defect Python registered on the message, its parts
and their headers.
"""
import base64
import email
import email.policy
import json
import sys


def mailboxes(message, name):
    header = message[name]
    if header is None:
        return []
    return [
        {"name": address.display_name, "address": address.addr_spec}
        for address in header.addresses
    ]


def defects(part, where):
    found = [f"{where}: {type(defect).__name__}: {defect}" for defect in part.defects]
    for name, value in part.items():
        for defect in getattr(value, "defects", ()):
            found.append(f"{where} {name}: {type(defect).__name__}: {defect}")
    return found


def body(message, subtype):
    part = message.get_body(preferencelist=(subtype,))
    if part is None:
        return None, None
    return part, part.get_content()


def read(request):
    message = email.message_from_bytes(
        base64.b64decode(request["raw"]), policy=email.policy.default
    )
    plain_part, text = body(message, "plain")
    html_part, html = body(message, "html")
    found = []
    attachments = []
    for index, part in enumerate(message.walk()):
        found += defects(part, f"part {index}")
        if part.is_multipart() or part is plain_part or part is html_part:
            continue
        content_type = part["content-type"]
        content_id = part["content-id"]
        attachments.append(
            {
                "filename": part.get_filename(),
                "name": None if content_type is None else content_type.params.get("name"),
                "contentType": part.get_content_type(),
                "contentId": None if content_id is None else str(content_id),
                "content": base64.b64encode(part.get_payload(decode=True) or b"").decode("ascii"),
            }
        )
    headers = {}
    for name in request["headers"]:
        value = message[name]
        headers[name.lower()] = None if value is None else str(value)
    subject = message["subject"]
    return {
        "subject": None if subject is None else str(subject),
        "from": mailboxes(message, "from"),
        "to": mailboxes(message, "to"),
        "cc": mailboxes(message, "cc"),
        "bcc": mailboxes(message, "bcc"),
        "replyTo": mailboxes(message, "reply-to"),
        "text": text,
        "html": html,
        "attachments": attachments,
        "headers": headers,
        "defects": found,
    }


def main():
    for line in sys.stdin:
        try:
            answer = read(json.loads(line))
        except Exception as error:  # the judge says why it could not read, and goes on
            answer = {"error": f"{type(error).__name__}: {error}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
