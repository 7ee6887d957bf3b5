-- handlers-utils: pattern builders and reply helpers for Handlers (`Handlers.utils`), as in AOS.

local _utils = { _version = "0.0.2" }

local type, ipairs, assert = type, ipairs, assert

--- A pattern matching messages whose tag `name` equals `value`.
function _utils.hasMatchingTag(name, value)
  assert(type(name) == "string" and type(value) == "string", "invalid arguments: (name : string, value : string)")
  return function(msg)
    return msg.Tags[name] == value
  end
end

--- A pattern matching messages whose tag `name` equals one of `values`.
function _utils.hasMatchingTagOf(name, values)
  assert(type(name) == "string" and type(values) == "table", "invalid arguments: (name : string, values : string[])")
  return function(msg)
    for _, value in ipairs(values) do
      if msg.Tags[name] == value then
        return true
      end
    end
    return false
  end
end

--- A pattern matching messages whose Data equals `value`.
function _utils.hasMatchingData(value)
  assert(type(value) == "string", "invalid arguments: (value : string)")
  return function(msg)
    return msg.Data == value
  end
end

--- A handler that replies with `input` (a string is the reply's Data; a table is the reply message).
function _utils.reply(input)
  assert(type(input) == "table" or type(input) == "string", "invalid arguments: (input : table or string)")
  return function(msg)
    if type(input) == "string" then
      msg.reply({ Data = input })
      return
    end
    local copy = {}
    for k, v in pairs(input) do
      copy[k] = v
    end
    msg.reply(copy)
  end
end

--- A pattern that matches like `pattern` but lets evaluation continue to later handlers.
function _utils.continue(pattern)
  local utils = require(".utils")
  return function(msg)
    local match = utils.matchesSpec(msg, pattern)
    if not match or match == 0 or match == "skip" then
      return match
    end
    return 1
  end
end

return _utils
