import type { NodeDef } from '../graph';
import { parseAttrs } from '../infer';
import { getOp, resolveChannelRule, type ChannelRule } from '../ops';

/**
 * How a node treats the channel (last) axis in structured channel removal: its op's declared
 * {@link ChannelRule} for the node's attributes (a grouped conv2d is opaque, a concat carries its axis).
 */
export function channelRuleOf(node: Pick<NodeDef, 'name' | 'op' | 'scope' | 'attrs'>): ChannelRule {
  const op = getOp(node.op);
  return resolveChannelRule(op, parseAttrs(op, node));
}
