"""The data package's settings checks: designer.core.settings raising DataError."""

from __future__ import annotations

from functools import partial

from designer.core import settings as _settings
from designer.data.errors import DataError

check_setting_types = partial(_settings.check_setting_types, error=DataError)
check_range = partial(_settings.check_range, error=DataError)
settings_from_dict = partial(_settings.settings_from_dict, error=DataError)
settings_to_dict = _settings.settings_to_dict
