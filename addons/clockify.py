"""Load clockify-proxy into plain mitmdump or mitmweb: `mitmweb -s addons/clockify.py`.

mitmproxy puts this file's folder on sys.path while it imports it, so the package beside it
is found without installation (its dependencies must be installed).
"""

from clockify_proxy import ClockifyProxy

addons = [ClockifyProxy()]
