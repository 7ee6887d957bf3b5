-- Voting (equivalent of AOS's voting blueprint): Vote adds the voter's stake (Stakers[From].amount, a
-- number) to Votes[Target][Side] with a deadline Deadline blocks after the vote's Block-Height; a final
-- handler that matches every message (-1: break) settles the votes whose deadline has come.
Balances = Balances or {}
Votes = Votes or {}

Handlers.vote = function(msg)
  local quantity = Stakers[msg.From].amount
  local target = msg.Tags.Target
  local side = msg.Tags.Side
  local deadline = tonumber(msg['Block-Height']) + tonumber(msg.Tags.Deadline)
  assert(quantity > 0, "No staked tokens to vote")
  Votes[target] = Votes[target] or { yay = 0, nay = 0, deadline = deadline }
  Votes[target][side] = Votes[target][side] + quantity
end

local function finalize(msg)
  local height = tonumber(msg['Block-Height'])
  for target, info in pairs(Votes) do
    if height >= info.deadline then
      if info.yay > info.nay then
        print("Handle Vote")
      end
      Votes[target] = nil
    end
  end
end

local function continue(pattern)
  return function(msg)
    local result = pattern(msg)
    if result == -1 then
      return 1
    end
    return result
  end
end

Handlers.add("vote", continue(Handlers.utils.hasMatchingTag("Action", "Vote")), Handlers.vote)
Handlers.add("finalize", function(msg) return -1 end, finalize)
