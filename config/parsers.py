"""The JSON parser of every endpoint: DRF's, refusing text that is not Unicode.

JSON's `\\ud800` escape decodes to a lone surrogate, a Python string that no UTF-8 encoder (BSON's,
Argon2's, the log's) accepts: it would surface as a 500 deep in a service. It is refused here as
a 400 parse error, once, for every field of every body.
"""
import json

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class UnicodeJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        try:
            # One pass in C over every key and value; a surrogate pair was joined when decoding.
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ParseError("JSON parse error - a string holds a lone surrogate (not a Unicode character).") from None
        except (TypeError, ValueError, RecursionError):
            pass  # not ours to judge here; DRF's parser already accepted it
        return data
