-- Token (equivalent of AOS's token blueprint): Info, Balance, Balances, Transfer with Debit-/Credit-Notice,
-- Mint (the process itself only), Total-Supply, Burn. Quantities are decimal strings, added as bint(256).
local bint = require('.bint')(256)
local ao = require('ao')
local json = require('json')

local amounts = {
  add = function(a, b) return tostring(bint(a) + bint(b)) end,
  sub = function(a, b) return tostring(bint(a) - bint(b)) end,
  norm = function(a) return tostring(bint(a)) end,
}

Variant = "0.0.3"
Denomination = Denomination or 12
Balances = Balances or { [ao.id] = amounts.norm(10000 * 10 ^ Denomination) }
TotalSupply = TotalSupply or amounts.norm(10000 * 10 ^ Denomination)
Name = Name or 'Points Coin'
Ticker = Ticker or 'PNTS'
Logo = Logo or 'SBCCXwwecBlDqRLUjb8dYABExTJXLieawf7m2aBJ-KY'

Handlers.add('info', Handlers.utils.hasMatchingTag('Action', 'Info'), function(msg)
  msg.reply({ Name = Name, Ticker = Ticker, Logo = Logo, Denomination = tostring(Denomination) })
end)

Handlers.add('balance', Handlers.utils.hasMatchingTag('Action', 'Balance'), function(msg)
  local who = msg.Tags.Recipient or msg.Tags.Target or msg.From
  local balance = Balances[who] or '0'
  msg.reply({ Balance = balance, Ticker = Ticker, Account = who, Data = balance })
end)

Handlers.add('balances', Handlers.utils.hasMatchingTag('Action', 'Balances'), function(msg)
  msg.reply({ Data = json.encode(Balances) })
end)

Handlers.add('transfer', Handlers.utils.hasMatchingTag('Action', 'Transfer'), function(msg)
  assert(type(msg.Recipient) == 'string', 'Recipient is required!')
  assert(type(msg.Quantity) == 'string', 'Quantity is required!')
  assert(bint.__lt(0, bint(msg.Quantity)), 'Quantity must be greater than 0')
  Balances[msg.From] = Balances[msg.From] or '0'
  Balances[msg.Recipient] = Balances[msg.Recipient] or '0'
  if bint(msg.Quantity) <= bint(Balances[msg.From]) then
    Balances[msg.From] = amounts.sub(Balances[msg.From], msg.Quantity)
    Balances[msg.Recipient] = amounts.add(Balances[msg.Recipient], msg.Quantity)
    if not msg.Cast then
      local debit = { Target = msg.From, Action = 'Debit-Notice', Recipient = msg.Recipient,
        Quantity = msg.Quantity,
        Data = Colors.gray .. "You transferred " .. Colors.blue .. msg.Quantity .. Colors.reset }
      local credit = { Target = msg.Recipient, Action = 'Credit-Notice', Sender = msg.From,
        Quantity = msg.Quantity,
        Data = Colors.gray .. "You received " .. Colors.blue .. msg.Quantity .. Colors.reset }
      for name, value in pairs(msg) do
        if string.sub(name, 1, 2) == "X-" then
          debit[name] = value
          credit[name] = value
        end
      end
      ao.send(debit)
      ao.send(credit)
    end
  else
    msg.reply({ Action = 'Transfer-Error', ['Message-Id'] = msg.Id, Error = 'Insufficient Balance!' })
  end
end)

Handlers.add('mint', Handlers.utils.hasMatchingTag('Action', 'Mint'), function(msg)
  assert(type(msg.Quantity) == 'string', 'Quantity is required!')
  assert(bint(0) < bint(msg.Quantity), 'Quantity must be greater than zero!')
  if msg.From == ao.id then
    Balances[ao.id] = amounts.add(Balances[ao.id] or '0', msg.Quantity)
    TotalSupply = amounts.add(TotalSupply, msg.Quantity)
    msg.reply({ Data = Colors.gray .. "Successfully minted " .. Colors.blue .. msg.Quantity .. Colors.reset })
  else
    msg.reply({ Action = 'Mint-Error', ['Message-Id'] = msg.Id,
      Error = 'Only the Process Id can mint new ' .. Ticker .. ' tokens!' })
  end
end)

Handlers.add('totalSupply', Handlers.utils.hasMatchingTag('Action', 'Total-Supply'), function(msg)
  assert(msg.From ~= ao.id, 'Cannot call Total-Supply from the same process!')
  msg.reply({ Action = 'Total-Supply', Data = TotalSupply, Ticker = Ticker })
end)

Handlers.add('burn', Handlers.utils.hasMatchingTag('Action', 'Burn'), function(msg)
  assert(type(msg.Quantity) == 'string', 'Quantity is required!')
  assert(bint(msg.Quantity) <= bint(Balances[msg.From] or '0'), 'Quantity must be less than or equal to the current balance!')
  Balances[msg.From] = amounts.sub(Balances[msg.From], msg.Quantity)
  TotalSupply = amounts.sub(TotalSupply, msg.Quantity)
  msg.reply({ Data = Colors.gray .. "Successfully burned " .. Colors.blue .. msg.Quantity .. Colors.reset })
end)
