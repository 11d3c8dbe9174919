"""Run by the system's Python (python3-speechd): speak one SSML text through
speech-dispatcher with the kokoro module, cancel it after CANCEL_AFTER seconds
if given, and print each event as a JSON line {"event", "mark", "time"}.

    speechd_client.py SOCKET SSML [CANCEL_AFTER]
"""

import json
import sys
import threading
import time

import speechd

socket, text = sys.argv[1], sys.argv[2]
cancel_after = float(sys.argv[3]) if len(sys.argv) > 3 else None
client = speechd.SSIPClient("kokoro-pipe-tests", address=f"unix_socket:{socket}",
                            autospawn=False)
client.set_output_module("kokoro")
client.set_data_mode(speechd.DataMode.SSML)
seen, done = [], threading.Event()


def callback(kind, index_mark=None):
    seen.append({"event": kind, "mark": index_mark, "time": time.time()})
    if kind in (speechd.CallbackType.END, speechd.CallbackType.CANCEL):
        done.set()


kinds = (speechd.CallbackType.BEGIN, speechd.CallbackType.END, speechd.CallbackType.CANCEL,
         speechd.CallbackType.INDEX_MARK)
print(json.dumps({"event": "sent", "mark": None, "time": time.time()}), flush=True)
client.speak(text, callback=callback, event_types=kinds)
if cancel_after is not None:
    time.sleep(cancel_after)
    print(json.dumps({"event": "cancel sent", "mark": None, "time": time.time()}), flush=True)
    client.cancel()
done.wait(120)
client.close()
for event in seen:
    print(json.dumps(event))
