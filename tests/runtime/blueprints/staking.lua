-- Staking (equivalent of AOS's staking blueprint): Stake moves Quantity from Balances to Stakers,
-- releasable UnstakeDelay blocks later; Unstake queues it; a "continue" handler placed first releases
-- what is due on every message (by msg['Block-Height']). Needs Balances (the token's).
Variant = "0.0.4"
Stakers = Stakers or {}
Unstaking = Unstaking or {}
UnstakeDelay = UnstakeDelay or 670
local bint = require('.bint')(256)

local function add(a, b) return tostring(bint(a) + bint(b)) end
local function sub(a, b) return tostring(bint(a) - bint(b)) end

Handlers.stake = function(msg)
  local quantity = bint(msg.Tags.Quantity)
  local height = tonumber(msg['Block-Height'])
  assert(Balances[msg.From] and bint(Balances[msg.From]) >= quantity, "Insufficient balance to stake")
  Balances[msg.From] = sub(Balances[msg.From], msg.Tags.Quantity)
  Stakers[msg.From] = Stakers[msg.From] or { amount = "0" }
  Stakers[msg.From].amount = add(Stakers[msg.From].amount, msg.Tags.Quantity)
  Stakers[msg.From].unstake_at = height + UnstakeDelay
  print("Successfully Staked " .. msg.Tags.Quantity)
  msg.reply({ Data = "Successfully Staked " .. msg.Tags.Quantity })
end

Handlers.unstake = function(msg)
  local staker = Stakers[msg.From]
  assert(staker and bint(staker.amount) >= bint(msg.Tags.Quantity), "Insufficient staked amount")
  staker.amount = sub(staker.amount, msg.Tags.Quantity)
  Unstaking[msg.From] = { amount = msg.Quantity, release_at = staker.unstake_at }
  msg.reply({ Data = "Successfully unstaked " .. msg.Tags.Quantity })
end

local function finalize(msg)
  local height = tonumber(msg['Block-Height'])
  for address, info in pairs(Unstaking) do
    if info.release_at == nil or height >= info.release_at then
      Balances[address] = add(Balances[address] or "0", info.amount)
      Unstaking[address] = nil
    end
  end
end

local function continue(pattern)
  return function(msg)
    local result = pattern(msg)
    if result == -1 then
      return "continue"
    end
    return result
  end
end

Handlers.add('staking.balances', 'Stakers', function(msg) msg.reply({ Data = require('json').encode(Stakers) }) end)
Handlers.add("staking.stake", continue(Handlers.utils.hasMatchingTag("Action", "Stake")), Handlers.stake)
Handlers.add("staking.unstake", continue(Handlers.utils.hasMatchingTag("Action", "Unstake")), Handlers.unstake)
Handlers.prepend("staking.finalize", function(msg) return "continue" end, finalize)
