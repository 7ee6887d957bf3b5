-- token: a fungible token on the aonode AOS runtime, after AOS's token blueprint.
--
-- Load it into a process with an Eval of this file (aonode eval PROCESS "$(cat token.lua)"); loading it
-- again keeps the balances. Quantities are decimal strings of non-negative integers that fit a Lua
-- integer (below 2^63); Balances maps address -> quantity string (as AOS does). The whole initial
-- supply belongs to the process Owner.
--
-- Actions (tags):
--   Info                          -> reply Name, Ticker, Logo, Denomination
--   Balance [Recipient|Target]    -> reply Balance, Ticker, Account; Data = balance
--   Balances                      -> reply Data = JSON of Balances
--   Transfer Recipient Quantity [Cast]
--                                 -> sender gets Debit-Notice, recipient gets Credit-Notice (no notices
--                                    with Cast); X-* tags of the transfer are copied onto both notices.
--                                    Insufficient balance: reply Transfer-Error.
--   Mint Quantity                 -> (Owner or the process itself) adds to the sender's balance
--   Total-Supply                  -> reply Action=Total-Supply, Data = total supply
--   Burn Quantity                 -> removes from the sender's balance

local json = require("json")

Denomination = Denomination or 12
TotalSupply = TotalSupply or "1000000000000000000"
Balances = Balances or { [Owner] = TotalSupply }
Ticker = Ticker or "PNTS"
TokenName = TokenName or "Points Coin"
Logo = Logo or "SBCCXwwecBlDqRLUjb8dYABExTJXLieawf7m2aBJ-KY"

local function quantity(text, what)
  assert(type(text) == "string" and text:match("^%d+$") and #text <= 19, what .. " must be a whole number")
  local q = math.tointeger(tonumber(text))
  assert(q ~= nil and q >= 0, what .. " is too large")
  return q
end

local function balance_of(address)
  local b = Balances[address]
  if b == nil then
    return 0
  end
  return math.tointeger(tonumber(b))
end

local function add_balance(address, delta)
  local current = balance_of(address)
  local b = current + delta
  assert(b >= 0, "balance would be negative")
  assert(delta <= 0 or b > current, "balance would overflow")
  Balances[address] = tostring(b)
end

local function x_tags(msg, notice)
  for _, tag in ipairs(msg.TagArray) do
    local name = tag.name
    if name:sub(1, 2) == "X-" and notice[name] == nil then
      notice[name] = tag.value
    end
  end
  return notice
end

Handlers.add("Info", "Info", function(msg)
  msg.reply({ Name = TokenName, Ticker = Ticker, Logo = Logo, Denomination = tostring(Denomination) })
end)

Handlers.add("Balance", "Balance", function(msg)
  local account = msg.Tags.Recipient or msg.Tags.Target or msg.From
  local bal = Balances[account] or "0"
  msg.reply({ Balance = bal, Ticker = Ticker, Account = account, Data = bal })
end)

Handlers.add("Balances", "Balances", function(msg)
  msg.reply({ Data = json.encode(Balances) })
end)

Handlers.add("Transfer", "Transfer", function(msg)
  assert(type(msg.Recipient) == "string" and msg.Recipient ~= "", "Recipient is required!")
  local qty = quantity(msg.Quantity, "Quantity")
  assert(qty > 0, "Quantity must be greater than 0")
  if balance_of(msg.From) < qty then
    msg.reply({ Action = "Transfer-Error", ["Message-Id"] = msg.Id, Error = "Insufficient Balance!" })
    return
  end
  add_balance(msg.From, -qty)
  add_balance(msg.Recipient, qty)
  if msg.Cast then
    return
  end
  msg.reply(x_tags(msg, {
    Action = "Debit-Notice",
    Recipient = msg.Recipient,
    Quantity = msg.Quantity,
    Data = "You transferred " .. msg.Quantity .. " to " .. msg.Recipient,
  }))
  Send(x_tags(msg, {
    Target = msg.Recipient,
    Action = "Credit-Notice",
    Sender = msg.From,
    Quantity = msg.Quantity,
    Data = "You received " .. msg.Quantity .. " from " .. msg.From,
  }))
end)

Handlers.add("Mint", "Mint", function(msg)
  local qty = quantity(msg.Quantity, "Quantity")
  if msg.From ~= Owner and msg.From ~= ao.id then
    msg.reply({ Action = "Mint-Error", ["Message-Id"] = msg.Id, Error = "Only the Owner can mint new " .. Ticker })
    return
  end
  local supply = math.tointeger(tonumber(TotalSupply))
  assert(supply + qty >= supply, "total supply would overflow")
  add_balance(msg.From, qty)
  TotalSupply = tostring(supply + qty)
  msg.reply({ Data = "Successfully minted " .. msg.Quantity })
end)

Handlers.add("Total-Supply", "Total-Supply", function(msg)
  msg.reply({ Action = "Total-Supply", Data = TotalSupply, Ticker = Ticker })
end)

Handlers.add("Burn", "Burn", function(msg)
  local qty = quantity(msg.Quantity, "Quantity")
  assert(balance_of(msg.From) >= qty, "Insufficient Balance!")
  add_balance(msg.From, -qty)
  TotalSupply = tostring(math.tointeger(tonumber(TotalSupply)) - qty)
  msg.reply({ Data = "Successfully burned " .. msg.Quantity })
end)
