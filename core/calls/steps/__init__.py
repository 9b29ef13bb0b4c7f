"""The steps a call goes through, one module each: dial (ring numbers and groups), bridge (talk and
record), ivr (menus), queue (wait for an agent), voicemail. Each returns to the routing loop
(core/calls/loop.py) what comes next: None when the call is over, else a refusal or where to go."""
