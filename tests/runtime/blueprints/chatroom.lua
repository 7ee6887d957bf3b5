-- Chatroom (equivalent of AOS's chatroom blueprint): Register adds the sender to Weavers; Broadcast sends
-- the message's Data to every registered member.
Weavers = Weavers or {}

Handlers.add("register", Handlers.utils.hasMatchingTag("Action", "Register"), function(msg)
  Weavers[#Weavers + 1] = msg.From
  Handlers.utils.reply("registered")(msg)
end)

Handlers.add("broadcast", Handlers.utils.hasMatchingTag("Action", "Broadcast"), function(msg)
  for _, member in ipairs(Weavers) do
    ao.send({ Target = member, Data = msg.Data })
  end
  Handlers.utils.reply("Broadcasted.")(msg)
end)
